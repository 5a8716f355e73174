package dev.bolero.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bolero.api.testing.ApiWords;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.core.MachineSpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * A hostile client's request bodies: whatever arrives, parsing either yields a valid value or refuses it with
 * {@code invalid_argument} and a message in the API's words — never another exception, and never a Java class, a
 * parser's name or its internals in the message.
 *
 * <p>Without {@code JAZZER_FUZZ=1} this runs the inputs kept under its resources (regression); with it, Jazzer
 * mutates inputs for the {@code maxDuration} ({@code scripts/fuzz.sh}).
 */
class ApiBodyFuzzTest {
    private static final List<Class<?>> BODIES = List.of(CreateClusterMachine.class, CreateMachineRequest.class,
            FleetSpec.class, MachineSpec.Overlay.class, ExecRequest.class);

    @FuzzTest(maxDuration = "60s")
    void everyBodyIsParsedOrRefusedInTheApisWords(FuzzedDataProvider data) {
        Class<?> type = BODIES.get(data.consumeInt(0, BODIES.size() - 1));
        String body = data.consumeRemainingAsString();
        parsedOrRefusedInTheApisWords(body, () -> ApiJson.parse(body, type, "fuzz"));
        // As a request's bytes arrive (the routes parse those), and with bytes that are not UTF-8 among them.
        byte[] utf8 = body.getBytes(StandardCharsets.UTF_8);
        parsedOrRefusedInTheApisWords(body, () -> ApiJson.parse(utf8, utf8.length, type, "fuzz"));
        byte[] latin1 = body.getBytes(StandardCharsets.ISO_8859_1);
        parsedOrRefusedInTheApisWords(body, () -> ApiJson.parse(latin1, latin1.length, type, "fuzz"));
    }

    private static void parsedOrRefusedInTheApisWords(String body, Supplier<Object> parse) {
        try {
            assertThat(parse.get()).isNotNull();
        } catch (ApiException refused) {
            assertThat(refused.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            // A message may quote the body (a bad token, an unknown field): a word counts only if the body lacks it,
            // and a quoted field path of the body's own keys is the body's too.
            assertThat(ApiWords.withoutEchoedPaths(refused.getMessage(), body)).as("refusal of %s", body)
                    .doesNotContain(ApiWords.leaksAbsentFrom(body));
        }
    }
}
