/**
 * Internals of lstm4j: engine selection, validation helpers, the engine interface. Not API: don't depend on this
 * package or its subpackages; they change without notice. Use {@link dev.lstm4j.Lstm4j} instead.
 */
package dev.lstm4j.internal;
