package dev.lstm4j;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DTypeTest {
    /** Every half bit pattern decodes to a value that encodes back to the same bits (NaN to a NaN). */
    @Test
    void halfRoundTripsEveryBitPattern() {
        for (int bits = 0; bits < 65536; bits++) {
            double v = DType.halfToDouble((short) bits);
            short back = DType.doubleToHalf(v);
            if (Double.isNaN(v)) {
                assertTrue(Double.isNaN(DType.halfToDouble(back)));
            } else {
                assertEquals((short) bits, back, "half bits " + Integer.toHexString(bits) + " = " + v);
            }
        }
    }

    @Test
    void bfloat16RoundTripsEveryBitPattern() {
        for (int bits = 0; bits < 65536; bits++) {
            double v = DType.bfloat16ToDouble((short) bits);
            short back = DType.doubleToBfloat16(v);
            if (Double.isNaN(v)) {
                assertTrue(Double.isNaN(DType.bfloat16ToDouble(back)));
            } else {
                assertEquals((short) bits, back, "bfloat16 bits " + Integer.toHexString(bits));
            }
        }
    }

    /** Halfway cases round to even, as IEEE and PyTorch's .half() do. */
    @Test
    void halfRoundsToNearestEven() {
        double one = 1.0, ulp = Math.scalb(1.0, -10);
        assertEquals(DType.doubleToHalf(one), DType.doubleToHalf(one + ulp / 2)); // tie goes to even 1.0
        assertEquals(DType.doubleToHalf(one + 2 * ulp), DType.doubleToHalf(one + 1.5 * ulp)); // tie goes to even
        assertEquals((short) 0x7c00, DType.doubleToHalf(70000)); // overflow
        assertEquals((short) 0x0001, DType.doubleToHalf(Math.scalb(1.0, -24)));
    }
}
