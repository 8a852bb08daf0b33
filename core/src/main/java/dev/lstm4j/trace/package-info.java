/**
 * Recording what happens inside the cell: {@link dev.lstm4j.trace.Trace} runs a model on the reference path and keeps
 * every stage of every step; {@link dev.lstm4j.trace.TraceReport}, {@link dev.lstm4j.trace.TraceJson} and
 * {@link dev.lstm4j.trace.TraceCsv} print and write it. See {@code docs/trace.md}.
 */
package dev.lstm4j.trace;
