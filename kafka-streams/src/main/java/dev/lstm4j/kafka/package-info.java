/**
 * lstm4j on Kafka Streams: {@link dev.lstm4j.kafka.LstmProcessor} runs an LSTM over each key's events, keeping the
 * key's state ({@link dev.lstm4j.StreamState}) in a {@code KeyValueStore} backed by a changelog topic. See
 * {@code docs/kafka-streams.md}.
 */
package dev.lstm4j.kafka;
