package dev.lstm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.IHelpSectionRenderer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Help text that wraps only at spaces. picocli wraps with {@link java.text.BreakIterator}'s line rules, which
 * break after a dot before a letter ({@code h_n.|npy}, {@code --seq-|first} is guarded by picocli, dots are not).
 * So picocli lays each section out on very long lines, and this class wraps them at spaces to the width:
 * {@code $COLUMNS} when set (at least 55), else 80. A word longer than the width stays whole.
 */
final class HelpLayout {
    /** picocli's layout width: wide enough that picocli itself never wraps a line. */
    private static final int UNWRAPPED = 10_000;
    private static final Pattern DESCRIPTION_COLUMN = Pattern.compile("^\\s*\\S.*?\\s{2,}(?=\\S)");

    private HelpLayout() {
    }

    static void install(CommandLine cl) {
        install(cl, width());
    }

    static void install(CommandLine cl, int width) {
        cl.setUsageHelpWidth(UNWRAPPED);
        wrapSections(cl, width);
    }

    private static void wrapSections(CommandLine cl, int width) {
        Map<String, IHelpSectionRenderer> sections = cl.getHelpSectionMap();
        for (Map.Entry<String, IHelpSectionRenderer> e : sections.entrySet()) {
            String key = e.getKey();
            IHelpSectionRenderer original = e.getValue();
            if (key.equals(CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS)) {
                // the synopsis follows its heading ("Usage: ") on the same line: wrap them together
                e.setValue(help -> {
                    String heading = help.synopsisHeading();
                    String text = original.render(help);
                    if (heading.contains("\n") || heading.contains("\r") || !text.startsWith(help.commandSpec().qualifiedName())) {
                        return wrap(key, text, width, help.commandSpec().qualifiedName());
                    }
                    String wrapped = wrap(key, heading + text, width, heading + help.commandSpec().qualifiedName());
                    return wrapped.substring(heading.length());
                });
                continue;
            }
            e.setValue(help -> wrap(key, original.render(help), width, help.commandSpec().qualifiedName()));
        }
        cl.setHelpSectionMap(sections);
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getParent() == cl) {
                wrapSections(sub, width);
            }
        }
    }

    static int width() {
        try {
            String columns = System.getenv("COLUMNS");
            int w = columns == null ? 80 : Integer.parseInt(columns.strip());
            return Math.max(55, Math.min(w, 200));
        } catch (NumberFormatException e) {
            return 80;
        }
    }

    /** One rendered section, each line wrapped at spaces to {@code width}, continuation lines indented as the section wants. */
    static String wrap(String section, String text, int width, String commandName) {
        if (text.isEmpty()) {
            return text;
        }
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder(text.length() + 64);
        String[] lines = text.split("\\R", -1);
        for (int k = 0; k < lines.length; k++) {
            if (k > 0) {
                b.append(nl);
            }
            String line = lines[k];
            if (line.length() <= width) {
                b.append(line);
                continue;
            }
            int indent = continuationIndent(section, line, commandName);
            List<String> parts = wrapLine(line, width, indent);
            b.append(String.join(nl, parts));
        }
        return b.toString();
    }

    private static int continuationIndent(String section, String line, String commandName) {
        int leading = 0;
        while (leading < line.length() && line.charAt(leading) == ' ') {
            leading++;
        }
        switch (section) {
            case CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS:
                return line.startsWith(commandName + " ") ? (commandName + " ").length() : leading + 2;
            case CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST:
            case CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST:
                Matcher m = DESCRIPTION_COLUMN.matcher(line);
                return (m.find() ? m.end() : leading) + 2;
            case CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER:
                return leading + 4;
            default:
                return leading;
        }
    }

    /** Greedy wrap at single spaces; the first line keeps its own indent, the others start with {@code indent} spaces. */
    static List<String> wrapLine(String line, int width, int indent) {
        List<String> out = new ArrayList<>();
        String pad = " ".repeat(indent);
        String rest = line;
        boolean first = true;
        while (true) {
            String candidate = first ? rest : pad + rest;
            int floor = first ? firstNonSpace(candidate) : indent;
            if (candidate.length() <= width) {
                out.add(candidate);
                return out;
            }
            int cut = candidate.lastIndexOf(' ', width);
            if (cut <= floor) {
                cut = candidate.indexOf(' ', width); // a word longer than the line: keep it whole
                if (cut < 0) {
                    out.add(candidate);
                    return out;
                }
            }
            out.add(candidate.substring(0, cut).stripTrailing());
            rest = candidate.substring(cut).stripLeading();
            if (rest.isEmpty()) {
                return out;
            }
            first = false;
        }
    }

    private static int firstNonSpace(String s) {
        int k = 0;
        while (k < s.length() && s.charAt(k) == ' ') {
            k++;
        }
        return k;
    }
}
