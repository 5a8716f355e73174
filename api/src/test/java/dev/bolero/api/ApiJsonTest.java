package dev.bolero.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.FleetSpec;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ApiJsonTest {
    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("{\"image\": 123}", "create machine: image must be a string"),
                Arguments.of("{\"image\": \"x\", \"name\": 123}", "create machine: name must be a string"),
                Arguments.of("{\"image\": \"x\", \"name\": true}", "create machine: name must be a string"),
                Arguments.of("{\"image\": \"x\", \"name\": 1.5}", "create machine: name must be a string"),
                Arguments.of("{\"image\": \"x\", \"name\": {}}", "create machine: name must be a string"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"memory_mb\": \"512\"}}",
                        "create machine: guest.memory_mb must be an integer"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"memory_mb\": 512.5}}",
                        "create machine: guest.memory_mb must be an integer"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"memory_mb\": 512.0}}",
                        "create machine: guest.memory_mb must be an integer"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"memory_mb\": true}}",
                        "create machine: guest.memory_mb must be an integer"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"memory_mb\": 99999999999}}",
                        "create machine: guest.memory_mb is out of range for a 32-bit integer"),
                Arguments.of("{\"image\": \"x\", \"start\": \"true\"}", "create machine: start must be true or false"),
                Arguments.of("{\"image\": \"x\", \"start\": 1}", "create machine: start must be true or false"),
                Arguments.of("{\"image\": \"x\", \"guest\": \"\"}", "create machine: guest must be an object"),
                Arguments.of("{\"image\": \"x\", \"guest\": []}", "create machine: guest must be an object"),
                Arguments.of("{\"image\": \"x\", \"env\": {\"A\": 1}}", "create machine: env.A must be a string"),
                Arguments.of("{\"image\": \"x\", \"services\": {}}", "create machine: services must be an array"),
                Arguments.of("{\"image\": \"x\", \"services\": [{\"port\": 80, \"internal_port\": \"80\"}]}",
                        "create machine: services[0].internal_port must be an integer"),
                Arguments.of("{\"image\": \"x\", \"name\": \"a\", \"name\": \"b\"}",
                        "create machine: duplicate field 'name'"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"cpus\": 1, \"cpus\": 2}}",
                        "create machine: duplicate field 'guest.cpus'"),
                Arguments.of("{\"image\": \"x\", \"imagee\": 1}", "create machine: unknown field 'imagee'"),
                Arguments.of("{\"image\": \"x\", \"guest\": {\"cpu\": 1}}", "create machine: unknown field 'guest.cpu'"),
                Arguments.of("{\"image\": \"x\", \"services\": [{\"protocol\": \"sctp\", \"internal_port\": 1, "
                        + "\"port\": 2}]}", "services: protocol must be tcp or udp, got 'sctp'"),
                Arguments.of("[1]", "create machine: the request body must be an object"),
                Arguments.of("\"x\"", "create machine: the request body must be an object"),
                Arguments.of("{\"image\": \"x\"} {}", "create machine: malformed JSON: more after the end of the JSON value"),
                Arguments.of("{\"image\": ", "create machine: malformed JSON"),
                Arguments.of("{\"image\": \"x\", \"services\": [", "create machine: malformed JSON at line 1, column 29: "
                        + "Unexpected end-of-input: expected close marker for Array"),
                Arguments.of("{\"image\": \"x\", /* c */ \"name\": \"a\"}", "create machine: malformed JSON"),
                Arguments.of("{'image': 'x'}", "create machine: malformed JSON"),
                Arguments.of("{\"image\": \"x\", \"restart\": {\"policy\": 1}}",
                        "create machine: restart.policy must be a string"),
                Arguments.of("{\"image\": \"x\", \"restart\": {\"policy\": \"sometimes\"}}",
                        "restart.policy must be no, on-failure or always, got 'sometimes'"));
    }

    static Stream<Arguments> refusedElsewhere() {
        return Stream.of(
                Arguments.of(FleetSpec.class, "{\"name\": \"web\", \"strategy\": 1}",
                        "create machine: strategy must be one of spread, binpack"),
                Arguments.of(FleetSpec.class, "{\"name\": \"web\", \"strategy\": \"SPREAD\"}",
                        "create machine: strategy must be one of spread, binpack"),
                Arguments.of(FleetSpec.class, "{\"name\": \"web\", \"node_labels\": {\"a\": null}}",
                        "node_labels: label a needs a value"),
                Arguments.of(ExecStream.Control.class, "{\"resize\": {\"rows\": null, \"cols\": 1}}",
                        "create machine: resize.rows must be an integer"),
                Arguments.of(ExecStream.Control.class, "{\"close_stdin\": \"true\"}",
                        "create machine: close_stdin must be true or false"),
                Arguments.of(StopRequest.class, "{\"timeout_s\": 1e1}", "create machine: timeout_s must be an integer"));
    }

    @ParameterizedTest
    @MethodSource("refusedElsewhere")
    void refusesOtherRecordsAlike(Class<?> type, String body, String message) {
        assertThatThrownBy(() -> ApiJson.parse(body, type, "create machine"))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getMessage()).startsWith(message));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void refusesWithAPlainMessage(String body, String message) {
        assertThatThrownBy(() -> ApiJson.parse(body, CreateMachineRequest.class, "create machine"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith(message);
                    assertThat(e.getMessage()).doesNotContainPattern("java|class|`|Feature|dev\\.bolero|Integer|String|"
                            + "Boolean|CreateMachineRequest|GuestResources|(?i)coerc|token");
                });
    }
}
