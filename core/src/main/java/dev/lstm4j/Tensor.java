package dev.lstm4j;

import java.util.Arrays;
import java.util.StringJoiner;

/**
 * A small dense, row-major tensor: a shape, a dtype and values. Immutable.
 *
 * <p>Values are held as doubles; each is exactly representable in {@link #dtype()}, so a float32 tensor
 * holds float32 values. This keeps one readable code path for float32 and float64 models.
 */
public final class Tensor {
    private final DType dtype;
    private final int[] shape;
    private final double[] data;

    private Tensor(DType dtype, int[] shape, double[] data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * A tensor over a copy of {@code values}, each rounded to the nearest value of a float {@code dtype}.
     *
     * @throws IllegalArgumentException when the element count does not match the shape
     */
    public static Tensor of(DType dtype, int[] shape, double[] values) {
        long n = elementCount(shape);
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + shapeString(shape) + " needs " + n + " values, got " + values.length);
        }
        double[] copy = values.clone();
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < copy.length; i++) {
                    copy[i] = (float) copy[i];
                }
            }
            case F16 -> {
                for (int i = 0; i < copy.length; i++) {
                    copy[i] = DType.halfToDouble(DType.doubleToHalf(copy[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < copy.length; i++) {
                    copy[i] = DType.bfloat16ToDouble(DType.doubleToBfloat16(copy[i]));
                }
            }
            default -> {
            }
        }
        return new Tensor(dtype, shape.clone(), copy);
    }

    /** Wraps an array without copying; for code that just built it and will not touch it again. */
    static Tensor wrap(DType dtype, int[] shape, double[] values) {
        return new Tensor(dtype, shape, values);
    }

    /** A float32 tensor from float values. */
    public static Tensor of(int[] shape, float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return of(DType.F32, shape, d);
    }

    /** A tensor of zeros. */
    public static Tensor zeros(DType dtype, int... shape) {
        long n = elementCount(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new InputException("tensor of shape " + shapeString(shape) + " is too large (" + n + " elements)");
        }
        return new Tensor(dtype, shape.clone(), new double[(int) n]);
    }

    /** Product of the dimensions; throws on negative dimensions. */
    public static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + shapeString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** {@code (2, 3)} style, as PyTorch prints shapes. */
    public static String shapeString(int[] shape) {
        StringJoiner j = new StringJoiner(", ", "(", shape.length == 1 ? ",)" : ")");
        for (int d : shape) {
            j.add(Integer.toString(d));
        }
        return j.toString();
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code dim}; negative counts from the end. */
    public int size(int dim) {
        return shape[dim < 0 ? shape.length + dim : dim];
    }

    public int elementCount() {
        return data.length;
    }

    /** Element at a flat row-major index. */
    public double at(int flatIndex) {
        return data[flatIndex];
    }

    /** Element at a multi-dimensional index. */
    public double get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for tensor of shape " + shapeString(shape));
        }
        int flat = 0;
        for (int k = 0; k < index.length; k++) {
            if (index[k] < 0 || index[k] >= shape[k]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside shape " + shapeString(shape));
            }
            flat = flat * shape[k] + index[k];
        }
        return data[flat];
    }

    /** A copy of all values, row-major. */
    public double[] toDoubleArray() {
        return data.clone();
    }

    /** A copy of all values as floats, row-major. */
    public float[] toFloatArray() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) data[i];
        }
        return f;
    }

    /** Same values, another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (elementCount(newShape) != data.length) {
            throw new IllegalArgumentException("cannot reshape " + shapeString(shape) + " to " + shapeString(newShape));
        }
        return new Tensor(dtype, newShape.clone(), data);
    }

    /** Values rounded to another dtype (F32 or F64). */
    public Tensor to(DType target) {
        if (target == dtype) {
            return this;
        }
        if (target != DType.F32 && target != DType.F64) {
            throw new IllegalArgumentException("can only convert to F32 or F64, not " + target);
        }
        return of(target, shape, data);
    }

    /** Swaps the first two dimensions of a 3-D tensor: (T, B, X) to (B, T, X) and back. */
    public Tensor swapFirstTwo() {
        if (shape.length != 3) {
            throw new IllegalArgumentException("swapFirstTwo needs a 3-D tensor, got " + shapeString(shape));
        }
        int a = shape[0], b = shape[1], c = shape[2];
        double[] out = new double[data.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(data, (i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return new Tensor(dtype, new int[] {b, a, c}, out);
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString(shape) + " " + dtype.torchName();
    }
}
