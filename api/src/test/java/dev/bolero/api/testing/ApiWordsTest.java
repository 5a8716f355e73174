package dev.bolero.api.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The fuzz oracle: echoed paths do not count as leaks, and what the API itself wrote still does. */
class ApiWordsTest {
    @Test
    void aQuotedPathOfTheInputsKeysIsDropped() {
        String input = "{\"checks\":{\"wjdk\":{\"a\":1}}}";
        assertThat(ApiWords.withoutEchoedPaths("x: unknown field 'checks.wjdk.a'", input))
                .isEqualTo("x: unknown field ''");
    }

    @Test
    void anUnquotedPathKeepsOnlyTheNamesTheInputLacks() {
        String input = "{\"config\":{\"checks\":{\"wjdk\":{}}}}";
        String message = ApiWords.withoutEchoedPaths("config.checks.wjdk.type is required", input);
        assertThat(message).isEqualTo("''.''.''.type is required")
                .doesNotContain(ApiWords.leaksAbsentFrom(input));
    }

    @Test
    void aJavaNameTheInputLacksStillCounts() {
        String input = "{\"name\":\"java\"}";
        String message = ApiWords.withoutEchoedPaths("x: name must be java.lang.IllegalStateException", input);
        assertThat(message).isEqualTo("x: name must be ''.lang.IllegalStateException").contains("Exception");
        assertThat(ApiWords.leaksAbsentFrom(input)).contains("Exception");
        assertThat(ApiWords.withoutEchoedPaths("x: Cannot construct dev.bolero.api.Foo (class x)", "{}"))
                .contains("dev.bolero", "Cannot construct", "(class ");
    }
}
