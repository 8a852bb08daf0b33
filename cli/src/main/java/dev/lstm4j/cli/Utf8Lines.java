package dev.lstm4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Lines of a byte stream decoded strictly as UTF-8, one at a time: a line that is not valid UTF-8 is reported, never
 * repaired, so two keys that differ only in invalid bytes ({@code s\xe9}, {@code s\xe8}) cannot become one stream.
 */
final class Utf8Lines {
    /** Marks a line that is not valid UTF-8; compared by identity. */
    static final String INVALID = new String("\uFFFD invalid");
    /** Marks a line longer than {@link #MAX_LINE_BYTES}, whose rest was skipped unread into memory; compared by identity. */
    static final String TOO_LONG = new String("\uFFFD too long");
    /** The longest line kept: 1 MiB, far beyond any event line, so one line without an end cannot fill the heap. */
    static final int MAX_LINE_BYTES = 1 << 20;

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    Utf8Lines(InputStream in) {
        this.in = in;
    }

    /** The next line without its end ({@code \n} or {@code \r\n}), {@link #INVALID}, or null at the end. */
    String next() throws IOException {
        line.reset();
        int b;
        boolean tooLong = false;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (line.size() < MAX_LINE_BYTES) {
                line.write(b);
            } else {
                tooLong = true;
            }
        }
        if (b < 0 && line.size() == 0) {
            return null;
        }
        if (tooLong) {
            return TOO_LONG;
        }
        byte[] bytes = line.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        try {
            return decoder.reset().decode(ByteBuffer.wrap(bytes, 0, n)).toString();
        } catch (CharacterCodingException e) {
            return INVALID;
        }
    }
}
