/**
 * Internals of training: the seeded generator whose state a checkpoint saves. Not part of the API; don't depend on
 * this package.
 */
package dev.lstm4j.internal.train;
