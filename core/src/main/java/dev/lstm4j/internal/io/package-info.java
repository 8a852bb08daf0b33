/**
 * Internal file readers and writers (safetensors, the restricted {@code torch.save} unpickler, zip, npy/npz, CSV, JSON)
 * and the model loader. Not API: use {@link dev.lstm4j.Lstm4j}'s {@code load}, {@code readWeights}, {@code readNpy}.
 */
package dev.lstm4j.internal.io;
