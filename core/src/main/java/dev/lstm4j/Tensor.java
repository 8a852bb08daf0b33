package dev.lstm4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * A small dense, row-major tensor: a shape, a dtype and values. Immutable and thread-safe: no method changes
 * it, and every array it returns is a copy.
 *
 * <p>float32, float16 and bfloat16 values are held as floats (each exactly representable in its dtype), float64
 * and integer values as doubles; a float32 tensor may also be a view over little-endian bytes, such as a
 * memory-mapped safetensors file, so that weights are not copied onto the heap before they are packed.
 */
public final class Tensor {
    private final DType dtype;
    private final int[] shape;
    private final int count;
    private final double[] data;     // F64 and integer dtypes
    private final float[] floats;    // F32, F16, BF16
    private final ByteBuffer bytes;  // F32 little-endian view, or null

    private Tensor(DType dtype, int[] shape, double[] data, float[] floats, ByteBuffer bytes, int count) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
        this.floats = floats;
        this.bytes = bytes;
        this.count = count;
    }

    private static boolean heldAsFloat(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
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
        if (heldAsFloat(dtype)) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) round(dtype, values[i]);
            }
            return new Tensor(dtype, shape.clone(), null, f, null, f.length);
        }
        return new Tensor(dtype, shape.clone(), values.clone(), null, null, values.length);
    }

    private static double round(DType dtype, double v) {
        return switch (dtype) {
            case F32 -> (float) v;
            case F16 -> DType.halfToDouble(DType.doubleToHalf(v));
            case BF16 -> DType.bfloat16ToDouble(DType.doubleToBfloat16(v));
            default -> v;
        };
    }

    /**
     * A tensor that takes {@code values} as they are, without copying: for code that just built the array and will
     * not touch it again. Float dtypes are rounded in place.
     */
    public static Tensor wrap(DType dtype, int[] shape, double[] values) {
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + shapeString(shape) + " needs " + elementCount(shape) + " values, got " + values.length);
        }
        if (heldAsFloat(dtype)) {
            return of(dtype, shape, values);
        }
        return new Tensor(dtype, shape.clone(), values, null, null, values.length);
    }

    /**
     * A float32, float16 or bfloat16 tensor that takes {@code values} without copying (each must already be a value
     * of that dtype); for code that just built the array and will not touch it again.
     */
    public static Tensor wrap(DType dtype, int[] shape, float[] values) {
        if (!heldAsFloat(dtype)) {
            throw new IllegalArgumentException("float values for dtype " + dtype);
        }
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + shapeString(shape) + " needs " + elementCount(shape) + " values, got " + values.length);
        }
        return new Tensor(dtype, shape.clone(), null, values, null, values.length);
    }

    /**
     * A float32 tensor viewing little-endian float32 bytes, such as a region of a memory-mapped file. The bytes
     * must not change while the tensor is in use.
     */
    public static Tensor viewFloat32(int[] shape, ByteBuffer littleEndian) {
        long n = elementCount(shape);
        if (n * 4 != littleEndian.remaining()) {
            throw new IllegalArgumentException("shape " + shapeString(shape) + " needs " + n * 4 + " bytes, got " + littleEndian.remaining());
        }
        ByteBuffer b = littleEndian.slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Tensor(DType.F32, shape.clone(), null, null, b, (int) n);
    }

    /** A float32 tensor from float values. */
    public static Tensor of(int[] shape, float[] values) {
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + shapeString(shape) + " needs " + elementCount(shape) + " values, got " + values.length);
        }
        return new Tensor(DType.F32, shape.clone(), null, values.clone(), null, values.length);
    }

    /** A tensor of zeros. */
    public static Tensor zeros(DType dtype, int... shape) {
        long n = elementCount(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new InputException("tensor of shape " + shapeString(shape) + " is too large (" + n + " elements)");
        }
        return heldAsFloat(dtype) ? new Tensor(dtype, shape.clone(), null, new float[(int) n], null, (int) n)
                : new Tensor(dtype, shape.clone(), new double[(int) n], null, null, (int) n);
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
        return count;
    }

    /** Element at a flat row-major index. */
    public double at(int flatIndex) {
        if (floats != null) {
            return floats[flatIndex];
        }
        if (data != null) {
            return data[flatIndex];
        }
        return bytes.getFloat(Math.multiplyExact(flatIndex, 4));
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
        return at(flat);
    }

    /** A copy of all values, row-major. */
    public double[] toDoubleArray() {
        if (data != null) {
            return data.clone();
        }
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = at(i);
        }
        return d;
    }

    /** A copy of all values as floats, row-major. */
    public float[] toFloatArray() {
        float[] f = new float[count];
        copyFloats(0, f, 0, count);
        return f;
    }

    /** Copies {@code n} values from flat index {@code from} into {@code dst} as floats, without allocating. */
    public void copyFloats(int from, float[] dst, int dstOff, int n) {
        if (floats != null) {
            System.arraycopy(floats, from, dst, dstOff, n);
        } else if (data != null) {
            for (int i = 0; i < n; i++) {
                dst[dstOff + i] = (float) data[from + i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[dstOff + i] = bytes.getFloat((from + i) * 4);
            }
        }
    }

    /** Same values, another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (elementCount(newShape) != count) {
            throw new IllegalArgumentException("cannot reshape " + shapeString(shape) + " to " + shapeString(newShape));
        }
        return new Tensor(dtype, newShape.clone(), data, floats, bytes, count);
    }

    /** Values rounded to another dtype (F32 or F64). */
    public Tensor to(DType target) {
        if (target == dtype) {
            return this;
        }
        if (target != DType.F32 && target != DType.F64) {
            throw new IllegalArgumentException("can only convert to F32 or F64, not " + target);
        }
        if (target == DType.F32 && floats != null) {
            return new Tensor(DType.F32, shape, null, floats, null, count);  // F16/BF16 values are float32 values
        }
        if (target == DType.F32 && bytes != null) {
            return this;
        }
        return of(target, shape, toDoubleArray());
    }

    /** Swaps the first two dimensions of a 3-D tensor: (T, B, X) to (B, T, X) and back. */
    public Tensor swapFirstTwo() {
        if (shape.length != 3) {
            throw new IllegalArgumentException("swapFirstTwo needs a 3-D tensor, got " + shapeString(shape));
        }
        int a = shape[0], b = shape[1], c = shape[2];
        if (data != null) {
            double[] out = new double[count];
            for (int i = 0; i < a; i++) {
                for (int j = 0; j < b; j++) {
                    System.arraycopy(data, (i * b + j) * c, out, (j * a + i) * c, c);
                }
            }
            return new Tensor(dtype, new int[] {b, a, c}, out, null, null, count);
        }
        float[] out = new float[count];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                copyFloats((i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return new Tensor(dtype, new int[] {b, a, c}, null, out, null, count);
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString(shape) + " " + dtype.torchName();
    }
}
