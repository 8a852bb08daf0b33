package dev.lstm4j.internal;

/**
 * Makes text taken from a file safe to print in a message: tensor names, zip entry names, pickle
 * globals, dict keys, CSV headers.
 *
 * <p>A hostile file can hold names with newlines (a forged second line in a log), ANSI escapes (that
 * recolour or erase a terminal) or bidirectional overrides (that make text read differently from what
 * it is), and names megabytes long. {@link #safe(String)} writes every such character as a visible
 * escape, as Python's {@code repr} does ({@code \n}, {@code \x1b}, {@code \u202e}), doubles the
 * backslash so an escape in the name cannot pass for one of ours, and cuts what is left at
 * {@value #MAX_LENGTH} characters with an ellipsis.
 */
public final class Names {
    /** Longest name printed, in characters after escaping; longer names end in {@code …}. */
    public static final int MAX_LENGTH = 120;

    private Names() {
    }

    /** The name with control, format and separator characters escaped and cut at {@value #MAX_LENGTH} characters. */
    public static String safe(String name) {
        return safe(name, MAX_LENGTH);
    }

    /** As {@link #safe(String)}, cut at {@code max} characters. */
    public static String safe(String name, int max) {
        if (name == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(name.length(), max) + 8);
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int n = Character.charCount(cp);
            String piece = escape(cp, name, i);
            if (b.length() + piece.length() > max) {
                return b.append('…').toString();
            }
            b.append(piece);
            i += n;
        }
        return b.toString();
    }

    /** True when {@code s} holds no character that {@link #safe(String)} would escape (a check for tests). */
    public static boolean isPrintable(String s) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (cp != '\\' && needsEscape(cp, s, i)) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }

    private static String escape(int cp, String s, int at) {
        switch (cp) {
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            case '\\':
                return "\\\\";
            default:
                break;
        }
        if (!needsEscape(cp, s, at)) {
            return new String(Character.toChars(cp));
        }
        if (cp <= 0xff) {
            return String.format("\\x%02x", cp);
        }
        if (cp <= 0xffff) {
            return String.format("\\u%04x", cp);
        }
        return String.format("\\U%08x", cp);
    }

    /** Control (C0, DEL, C1), format (bidi overrides, zero-width), line/paragraph separators, lone surrogates, unassigned. */
    private static boolean needsEscape(int cp, String s, int at) {
        if (cp < 0x20 || cp >= 0x7f && cp <= 0x9f) {
            return true;
        }
        if (Character.isSurrogate(s.charAt(at)) && Character.charCount(cp) == 1) {
            return true; // a lone surrogate
        }
        int type = Character.getType(cp);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                || type == Character.UNASSIGNED || type == Character.PRIVATE_USE || type == Character.CONTROL;
    }
}
