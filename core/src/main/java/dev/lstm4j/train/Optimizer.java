package dev.lstm4j.train;

import dev.lstm4j.Precision;
import dev.lstm4j.internal.Validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code torch.optim} optimizer over a list of parameters: {@link Sgd}, {@link Adam} (and AdamW), {@link RmsProp}.
 * Each follows PyTorch's single-tensor algorithm line by line; a float32 model rounds after every tensor operation,
 * as PyTorch's float32 tensors do. Mutable (it keeps per-parameter state) and not thread-safe.
 */
public abstract class Optimizer {
    protected final List<Parameter> params;
    protected final Precision p;
    private long steps;

    protected Optimizer(List<Parameter> params, Precision precision) {
        Validate.input(params != null && !params.isEmpty(), "an optimizer needs at least one parameter");
        Validate.input(precision != null, "precision is null");
        this.params = List.copyOf(params);
        this.p = precision;
    }

    /** {@code optimizer.step()}: one update of every parameter from its gradient. */
    public final void step() {
        steps++;
        for (int k = 0; k < params.size(); k++) {
            update(k, params.get(k));
        }
    }

    /** Updates parameter {@code index} from its gradient; {@link #steps()} is already this step's number (1-based). */
    protected abstract void update(int index, Parameter param);

    /** {@code optimizer.zero_grad()}. */
    public final void zeroGrad() {
        for (int k = 0; k < params.size(); k++) {
            params.get(k).zeroGrad();
        }
    }

    /** Steps taken. */
    public final long steps() {
        return steps;
    }

    /** The parameters this optimizer updates. */
    public final List<Parameter> parameters() {
        return params;
    }

    /** PyTorch's name and options, e.g. {@code Adam(lr=0.001, betas=(0.9, 0.999), ...)}. */
    @Override
    public abstract String toString();

    /**
     * The state to save in a checkpoint, as {@code optimizer.state_dict()} holds it: one array per buffer and parameter,
     * keyed {@code <buffer>/<parameter name>} (e.g. {@code exp_avg/lstm.weight_ih_l0}); buffers not created yet are
     * absent. The arrays are copies.
     */
    public final Map<String, double[]> state() {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int k = 0; k < params.size(); k++) {
            for (Map.Entry<String, double[]> e : buffers(k).entrySet()) {
                if (e.getValue() != null) {
                    m.put(e.getKey() + "/" + params.get(k).name(), e.getValue().clone());
                }
            }
        }
        return m;
    }

    /** Restores what {@link #state()} saved, and the step count. */
    public final void loadState(Map<String, double[]> state, long stepCount) {
        this.steps = stepCount;
        for (int k = 0; k < params.size(); k++) {
            for (String buffer : buffers(k).keySet()) {
                double[] v = state.get(buffer + "/" + params.get(k).name());
                Validate.input(v == null || v.length == params.get(k).size(), "optimizer state " + buffer + "/" + params.get(k).name()
                        + ": expected " + params.get(k).size() + " values, got " + (v == null ? 0 : v.length));
                setBuffer(k, buffer, v == null ? null : v.clone());
            }
        }
    }

    /** Buffer name to array (null when not created yet) for parameter {@code index}. */
    protected abstract Map<String, double[]> buffers(int index);

    protected abstract void setBuffer(int index, String buffer, double[] value);

    /** Rounded to the model's precision. */
    protected final double r(double x) {
        return p.round(x);
    }
}
