package dev.lstm4j;

/**
 * Element types a weights file may hold. Values are kept as doubles in {@link Tensor}, each exactly
 * representable in its dtype; this enum knows the byte width and how to decode one element.
 */
public enum DType {
    F16(2, "float16"),
    BF16(2, "bfloat16"),
    F32(4, "float32"),
    F64(8, "float64"),
    /** Integer and boolean dtypes are read so files that hold them can be inspected; they are never weights. */
    I8(1, "int8"),
    U8(1, "uint8"),
    I16(2, "int16"),
    I32(4, "int32"),
    I64(8, "int64"),
    BOOL(1, "bool");

    private final int bytes;
    private final String torchName;

    DType(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    /** True for the dtypes LSTM weights may have: F16, BF16, F32, F64. */
    public boolean isFloat() {
        return ordinal() <= F64.ordinal();
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The name PyTorch and NumPy use, e.g. {@code float32}. */
    public String torchName() {
        return torchName;
    }

    /** IEEE half (binary16) to double; exact. */
    public static double halfToDouble(short bits) {
        int sign = (bits >> 15) & 1;
        int exp = (bits >> 10) & 0x1f;
        int mant = bits & 0x3ff;
        double value;
        if (exp == 0) {
            value = mant * 0x1p-24; // subnormal
        } else if (exp == 31) {
            value = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            value = (1024 + mant) * Math.scalb(1.0, exp - 25);
        }
        return sign == 1 ? -value : value;
    }

    /** Double to IEEE half, rounding to nearest even; overflow gives infinity. */
    public static short doubleToHalf(double value) {
        float f = (float) value;
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        if (Float.isNaN(f)) {
            return (short) (sign | 0x7e00);
        }
        float abs = Math.abs(f);
        if (abs >= 65520f) { // rounds past the largest half, 65504
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x1p-14f) { // subnormal half: multiples of 2^-24
            int m = (int) Math.rint(abs * 0x1p24f);
            return (short) (sign | m);
        }
        int exp = Math.getExponent(abs);
        int mantissa = (int) Math.rint(Math.scalb(abs, 10 - exp)) - 1024; // 10 fraction bits, rounded to even
        if (mantissa == 1024) {
            mantissa = 0;
            exp++;
        }
        return (short) (sign | ((exp + 15) << 10) | mantissa);
    }

    /** Double to bfloat16 (the top half of a float32), rounding to nearest even. */
    public static short doubleToBfloat16(double value) {
        float f = (float) value;
        int bits = Float.floatToIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** bfloat16 is the top half of a float32; exact. */
    public static double bfloat16ToDouble(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
