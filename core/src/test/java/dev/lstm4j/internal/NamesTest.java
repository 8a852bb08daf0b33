package dev.lstm4j.internal;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NamesTest {
    @Test
    void plainNamesAreUnchanged() {
        assertEquals("lstm.weight_ih_l0", Names.safe("lstm.weight_ih_l0"));
        assertEquals("gewichte.ä_l0 模型", Names.safe("gewichte.ä_l0 模型"));
    }

    @Test
    void controlCharactersBecomeVisibleEscapes() {
        assertEquals("a\\nb\\r\\t", Names.safe("a\nb\r\t"));
        assertEquals("\\x1b[31mred\\x1b[0m", Names.safe("\u001b[31mred\u001b[0m"));
        assertEquals("\\x00\\x7f\\x9b", Names.safe("\u0000\u007f\u009b"));
        assertEquals("abc\\u202eexe.txt", Names.safe("abc\u202eexe.txt"), "a bidi override");
        assertEquals("x\\u2028y", Names.safe("x\u2028y"), "a line separator");
        assertEquals("\\ud800", Names.safe("\ud800"), "a lone surrogate");
        assertEquals("a\\\\nb", Names.safe("a\\nb"), "a backslash in the name cannot pass for an escape");
    }

    @Test
    void longNamesAreCutWithAnEllipsis() {
        String s = Names.safe("w".repeat(100_000));
        assertEquals(Names.MAX_LENGTH + 1, s.length());
        assertTrue(s.endsWith("…"));
        String e = Names.safe("\n".repeat(1000));
        assertTrue(e.length() <= Names.MAX_LENGTH + 1 && e.endsWith("\\n…"), e);
        assertEquals("null", Names.safe(null));
    }

    /** Whatever goes in, what comes out has no control or format character and is short. */
    @Test
    void randomTextComesOutPrintable() {
        long seed = Long.getLong("lstm4j.fuzz.seed", 20261202L);
        System.out.println("NamesTest: seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (int c = 0; c < 20_000; c++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(200);
            for (int i = 0; i < n; i++) {
                b.append((char) (r.nextBoolean() ? r.nextInt(0x100) : r.nextInt(0x10000)));
            }
            String s = Names.safe(b.toString());
            assertTrue(s.length() <= Names.MAX_LENGTH + 1, "seed " + seed + " case " + c);
            assertTrue(Names.isPrintable(s), "seed " + seed + " case " + c + ": " + s);
        }
    }
}
