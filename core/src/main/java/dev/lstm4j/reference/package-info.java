/**
 * The reference card in code: {@link dev.lstm4j.reference.ReferenceLstm} computes the LSTM one equation per method
 * ({@code inputGate}, {@code forgetGate}, {@code candidate}, {@code outputGate}, {@code nextCell}, {@code nextHidden},
 * {@code project}), each quoting its equation, and returns every gate's pre-activation and activation. It is the
 * learner's entry point and the specification every faster engine is tested against. Reach it from a model with
 * {@code lstm.reference()}, or watch it run with {@code ForwardOptions.withObserver}.
 */
package dev.lstm4j.reference;
