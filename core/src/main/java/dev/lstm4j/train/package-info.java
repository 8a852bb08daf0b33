/**
 * Training in pure Java, as PyTorch trains: {@link dev.lstm4j.train.TrainableLstm} (an {@code nn.LSTM} with an
 * {@code nn.Linear} head, whose backward pass is {@link dev.lstm4j.reference.ReferenceBackward}, one method per
 * backward equation), {@link dev.lstm4j.train.Loss} ({@code MSELoss}, {@code L1Loss}, {@code SmoothL1Loss},
 * {@code HuberLoss}, {@code CrossEntropyLoss}, {@code BCEWithLogitsLoss}), the {@code torch.optim} optimizers
 * {@link dev.lstm4j.train.Sgd}, {@link dev.lstm4j.train.Adam} (and AdamW) and {@link dev.lstm4j.train.RmsProp},
 * {@link dev.lstm4j.train.GradClip}, and {@link dev.lstm4j.train.Trainer}, the loop with truncated BPTT, early stopping
 * and checkpoints that resume bit-identically. Gradients and optimizer steps are proven against
 * {@code torch.autograd} and {@code torch.optim} fixtures (tools/pytorch/make_grad_fixtures.py) and against finite
 * differences; see docs/training.md.
 *
 * <p>Training runs on the reference path, in double with every value rounded to the model's precision: readable and
 * exact, not fast.
 */
package dev.lstm4j.train;
