/**
 * Internals of training: the seeded generator whose state a checkpoint saves, and the batched float32 forward and
 * backward ({@code FastBackward}) with its gate math. Not part of the API; don't depend on
 * this package.
 */
package dev.lstm4j.internal.train;
