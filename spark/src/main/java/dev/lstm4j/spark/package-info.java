/**
 * lstm4j on Apache Spark: {@link dev.lstm4j.spark.LstmTransformer}, a Spark ML {@code Transformer} that runs an LSTM over
 * a column of sequences, batched per partition on the fast path, with the model loaded once per executor JVM. See
 * {@code docs/spark.md}.
 */
package dev.lstm4j.spark;
