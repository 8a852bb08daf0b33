package dev.lstm4j.cli;

/** Makes text safe to print as one terminal line: the last line of defence for messages that quote a file. */
final class Text {
    private Text() {
    }

    /**
     * {@code s} with every control character (C0, DEL, C1), line and paragraph separator and bidirectional
     * override shown as an escape ({@code \n}, {@code \r}, {@code \t}, {@code \x1b}, {@code \u202e}), so
     * that a message quoting a file cannot move the cursor, recolour the terminal or span two lines.
     */
    static String oneLine(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            String esc = escape(c);
            if (esc != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, k);
            }
            if (b != null) {
                if (esc != null) {
                    b.append(esc);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }

    private static String escape(char c) {
        switch (c) {
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            default:
                break;
        }
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            return String.format("\\x%02x", (int) c);
        }
        if (c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
                || c == '\u200e' || c == '\u200f' || c == '\u061c') {
            return String.format("\\u%04x", (int) c);
        }
        return null;
    }
}
