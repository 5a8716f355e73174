package dev.bolero.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.FleetSpec;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ApiJsonTest {
    /** A create body: {@code top} are the request's own fields, {@code config} the machine's spec (JSON fragments). */
    private static String body(String top, String config) {
        return "{" + (top.isEmpty() ? "" : top + ", ") + "\"config\": {" + config + "}}";
    }

    static Stream<Arguments> refused() {
        String image = "\"image\": \"x\"";
        return Stream.of(
                Arguments.of(body("", "\"image\": 123"), "create machine: config.image must be a string"),
                Arguments.of(body("\"name\": 123", image), "create machine: name must be a string"),
                Arguments.of(body("\"name\": true", image), "create machine: name must be a string"),
                Arguments.of(body("\"name\": 1.5", image), "create machine: name must be a string"),
                Arguments.of(body("\"name\": {}", image), "create machine: name must be a string"),
                Arguments.of(body("", image + ", \"guest\": {\"memory_mb\": \"512\"}"),
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(body("", image + ", \"guest\": {\"memory_mb\": 512.5}"),
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(body("", image + ", \"guest\": {\"memory_mb\": 512.0}"),
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(body("", image + ", \"guest\": {\"memory_mb\": true}"),
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(body("", image + ", \"guest\": {\"memory_mb\": 99999999999}"),
                        "create machine: config.guest.memory_mb is out of range for a 32-bit integer"),
                Arguments.of(body("\"start\": \"true\"", image), "create machine: start must be true or false"),
                Arguments.of(body("\"start\": 1", image), "create machine: start must be true or false"),
                Arguments.of(body("", image + ", \"guest\": \"\""), "create machine: config.guest must be an object"),
                Arguments.of(body("", image + ", \"guest\": []"), "create machine: config.guest must be an object"),
                Arguments.of(body("", image + ", \"env\": {\"A\": 1}"), "create machine: config.env.A must be a string"),
                Arguments.of(body("", image + ", \"services\": {}"), "create machine: config.services must be an array"),
                Arguments.of(body("", image + ", \"services\": [{\"port\": 80, \"internal_port\": \"80\"}]"),
                        "create machine: config.services[0].internal_port must be an integer"),
                Arguments.of(body("\"name\": \"a\", \"name\": \"b\"", image),
                        "create machine: duplicate field 'name'"),
                Arguments.of(body("", image + ", \"guest\": {\"cpus\": 1, \"cpus\": 2}"),
                        "create machine: duplicate field 'config.guest.cpus'"),
                Arguments.of("null", "create machine: the request body must be a JSON object, not null"),
                Arguments.of(" null ", "create machine: the request body must be a JSON object, not null"),
                Arguments.of(body("", image + ", \"imagee\": 1"), "create machine: unknown field 'config.imagee'"),
                Arguments.of(body("", image + ", \"guest\": {\"cpu\": 1}"),
                        "create machine: unknown field 'config.guest.cpu'"),
                Arguments.of(body("", image + ", \"services\": [{\"protocol\": \"sctp\", \"internal_port\": 1, "
                        + "\"port\": 2}]"), "config.services[0].protocol must be tcp, udp, got 'sctp'"),
                Arguments.of("[1]", "create machine: the request body must be an object"),
                Arguments.of("\"x\"", "create machine: the request body must be an object"),
                Arguments.of(body("", image) + " {}", "create machine: malformed JSON: more after the end of the JSON value"),
                Arguments.of("{\"config\": ", "create machine: malformed JSON"),
                Arguments.of("{\"config\": {\"services\": [", "create machine: malformed JSON at line 1, column 26: "
                        + "Unexpected end-of-input: expected close marker for Array"),
                Arguments.of(body("/* c */ \"name\": \"a\"", image), "create machine: malformed JSON"),
                Arguments.of("{'config': {}}", "create machine: malformed JSON"),
                Arguments.of(body("", image + ", \"restart\": {\"policy\": 1}"),
                        "create machine: config.restart.policy must be"),
                Arguments.of(body("", image + ", \"restart\": {\"policy\": \"sometimes\"}"),
                        "config.restart.policy must be no, on-failure, always, got 'sometimes'"));
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
                Arguments.of(dev.bolero.core.MachineSpec.Stop.class, "{\"timeout_s\": 1e1}", "create machine: timeout_s must be an integer"));
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
