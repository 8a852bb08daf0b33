/**
 * lstm4j on Apache Flink: {@link dev.lstm4j.flink.LstmOperator} runs an LSTM over each key's events on a keyed stream,
 * keeping the key's state ({@link dev.lstm4j.StreamState}) in {@code ValueState} with
 * {@link dev.lstm4j.flink.StreamStateSerializer}, and steps a mini-batch of keys as one product. See
 * {@code docs/flink.md}.
 */
package dev.lstm4j.flink;
