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
    /** A word holding a path's separator: a dot or a bracket. */
    private static final Pattern UNQUOTED_PATH = Pattern.compile("[^\\s']*[.\\[][^\\s']*");
    /** One name of a path. */
    private static final Pattern NAME = Pattern.compile("[^.\\[\\]]+");

    private ApiWords() {}

    /** The {@link #LEAKS} a message about {@code input} must not contain: those {@code input} does not itself hold. */
    public static List<String> leaksAbsentFrom(String input) {
        return LEAKS.stream().filter(word -> !input.contains(word)).toList();
    }

    /**
     * {@code message} without the field paths it echoes from {@code input}: such a path is the client's own keys
     * joined with dots and brackets, which may spell a word none of them holds (the keys {@code wjdk} and {@code a}
     * joined as {@code checks.wjdk.a} hold "jdk."). A quoted path ({@code 'config.checks.web.port'}) whose every name
     * the input holds is dropped whole (a key may hold a quote itself, so the span from the first quote to the last is
     * tried whole first); in an unquoted path ({@code config.checks.wjdk.port must be an integer}) each name the
     * input holds is dropped, so the API's own names around them still count.
     */
    public static String withoutEchoedPaths(String message, String input) {
        int first = message.indexOf('\'');
        int last = message.lastIndexOf('\'');
        if (first >= 0 && last > first && echoed(message.substring(first + 1, last), input)) {
            return withoutEchoedNames(message.substring(0, first), input) + "''"
                    + withoutEchoedNames(message.substring(last + 1), input);
        }
        Matcher quoted = QUOTED.matcher(message);
        var own = new StringBuilder();
        while (quoted.find()) {
            quoted.appendReplacement(own, echoed(quoted.group(1), input) ? "''"
                    : Matcher.quoteReplacement(quoted.group()));
        }
        quoted.appendTail(own);
        return withoutEchoedNames(own.toString(), input);
    }

    /** {@code text} with each name of its unquoted paths (words with a dot or bracket) that {@code input} holds as ''. */
    private static String withoutEchoedNames(String text, String input) {
        Matcher path = UNQUOTED_PATH.matcher(text);
        var own = new StringBuilder();
        while (path.find()) {
            Matcher name = NAME.matcher(path.group());
            var names = new StringBuilder();
            while (name.find()) {
                name.appendReplacement(names, input.contains(name.group()) ? "''"
                        : Matcher.quoteReplacement(name.group()));
            }
            name.appendTail(names);
            path.appendReplacement(own, Matcher.quoteReplacement(names.toString()));
        }
        path.appendTail(own);
        return own.toString();
    }

    /** Whether every name of field path {@code path} is in {@code input}. */
    private static boolean echoed(String path, String input) {
        return Arrays.stream(path.split("[.\\[\\]]")).filter(name -> !name.isEmpty()).allMatch(input::contains);
    }
}
