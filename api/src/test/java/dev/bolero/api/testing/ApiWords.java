package dev.bolero.api.testing;

import java.util.List;

/** What an error message in the API's words never shows: a Java type, the JSON parser's names or internals. */
public final class ApiWords {
    /** Words that would show a Java type, the parser's internals or its features in a message. */
    public static final List<String> LEAKS = List.of("java.", "tools.jackson", "com.fasterxml", "Exception",
            "dev.bolero", "`", "Cannot construct", "(class ", "Feature", "reference chain", "jdk.", "Source:");

    private ApiWords() {}

    /** The {@link #LEAKS} a message about {@code input} must not contain: those {@code input} does not itself hold. */
    public static List<String> leaksAbsentFrom(String input) {
        return LEAKS.stream().filter(word -> !input.contains(word)).toList();
    }
}
