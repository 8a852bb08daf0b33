/**
 * Internal fast path: the packed float32 engine ({@code FastLstm}), its scalar and Vector API kernels, and the
 * provider that picks them once. Not API: choose the path with {@link dev.lstm4j.EngineChoice}.
 */
package dev.lstm4j.internal.kernel;
