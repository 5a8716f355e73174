package dev.bolero.api.testing;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What an error message in the API's words never shows: a Java type, the JSON parser's names or internals. */
public final class ApiWords {
    /** Words that would show a Java type, the parser's internals or its features in a message. */
    public static final List<String> LEAKS = List.of("java.", "tools.jackson", "com.fasterxml", "Exception",
            "dev.bolero", "`", "Cannot construct", "(class ", "Feature", "reference chain", "jdk.", "Source:");

    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");

    private ApiWords() {}

    /** The {@link #LEAKS} a message about {@code input} must not contain: those {@code input} does not itself hold. */
    public static List<String> leaksAbsentFrom(String input) {
        return LEAKS.stream().filter(word -> !input.contains(word)).toList();
    }

    /**
     * {@code message} without the field paths it quotes ({@code 'config.checks.web.port'}) whose every name {@code
     * input} holds: such a path is the client's own keys joined with dots and brackets, which may spell a word none of
     * them holds (the keys {@code wjdk} and {@code a} quoted as {@code 'checks.wjdk.a'} hold "jdk."). A key may hold a
     * quote itself, so the span from the first quote to the last is tried whole first.
     */
    public static String withoutEchoedPaths(String message, String input) {
        int first = message.indexOf('\'');
        int last = message.lastIndexOf('\'');
        if (first >= 0 && last > first && echoed(message.substring(first + 1, last), input)) {
            return message.substring(0, first) + "''" + message.substring(last + 1);
        }
        Matcher quoted = QUOTED.matcher(message);
        var own = new StringBuilder();
        while (quoted.find()) {
            quoted.appendReplacement(own, echoed(quoted.group(1), input) ? "''"
                    : Matcher.quoteReplacement(quoted.group()));
        }
        quoted.appendTail(own);
        return own.toString();
    }

    /** Whether every name of field path {@code path} is in {@code input}. */
    private static boolean echoed(String path, String input) {
        return Arrays.stream(path.split("[.\\[\\]]")).filter(name -> !name.isEmpty()).allMatch(input::contains);
    }
}
