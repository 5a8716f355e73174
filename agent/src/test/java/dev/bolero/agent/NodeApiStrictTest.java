package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.testing.OversizedRequest;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The node API through a real agent: bodies are parsed strictly, and every refusal, including routes that do not
 * exist, wrong methods, oversized bodies and bodies that are not JSON, is the API's JSON error. No machine is made.
 */
class NodeApiStrictTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withoutImage();

    private static final String MACHINES = "/api/v1/machines";

    static Stream<Arguments> refusedBodies() {
        return Stream.of(
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\"}, \"name\": 123}", "create machine: name must be a string"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": 123}}", "create machine: config.image must be a string"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"guest\": {\"memory_mb\": \"512\"}}}",
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"guest\": {\"memory_mb\": 512.5}}}",
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"guest\": {\"memory_mb\": true}}}",
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\"}, \"start\": \"true\"}",
                        "create machine: start must be true or false"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\"}, \"start\": 0}", "create machine: start must be true or false"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"image\": \"y\"}}", "create machine: duplicate field 'config.image'"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"env\": {\"A\": false}}}",
                        "create machine: config.env.A must be a string"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"x\", \"restart\": {\"max_retries\": \"3\"}}}",
                        "create machine: config.restart.max_retries must be an integer"),
                Arguments.of(MACHINES + "/nope/exec", "{\"cmd\": \"ls\"}", "exec in machine nope: cmd must be an array"),
                Arguments.of(MACHINES + "/nope/stop", "{\"timeout_s\": 1.5}",
                        "stop machine nope: timeout_s must be an integer"),
                Arguments.of("/api/v1/images/pull", "{\"image\": [\"x\"]}", "pull image: image must be a string"));
    }

    @ParameterizedTest
    @MethodSource("refusedBodies")
    void aBodyOfTheWrongShapeIsA400NamingTheFieldAndNoJavaType(String path, String body, String message,
            AgentHarness node) {
        AgentHarness.Response refused = node.post(path, body);
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("invalid_argument");
        assertThat(refused.errorMessage()).startsWith(message)
                .doesNotContainPattern("java|class |`|Feature|dev\\.bolero|Integer|Boolean|(?i)coerc");
        assertThat(node.get(MACHINES).json()).as("no machine made of a refused body").isEmpty();
    }

    @Test
    void aQueryFlagIsTrueOrFalseOnly(AgentHarness node) {
        AgentHarness.Response one = node.delete(MACHINES + "/nope?force=1");
        assertThat(one.status()).isEqualTo(400);
        assertThat(one.errorMessage()).isEqualTo("force must be true or false, got '1'");
    }

    @Test
    void anUnknownRouteIsA404AndAWrongMethodA405WithAllow(AgentHarness node) {
        AgentHarness.Response unknown = node.get("/api/v1/nothing");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.errorMessage()).isEqualTo("no route GET /api/v1/nothing");
        AgentHarness.Response wrong = node.send("PUT", MACHINES + "/nope", "{}");
        assertThat(wrong.status()).isEqualTo(405);
        assertThat(wrong.errorCode()).isEqualTo("method_not_allowed");
        assertThat(wrong.headers().firstValue("Allow")).hasValue("GET, DELETE");
    }

    @Test
    void aBodyOverTheLimitIsA413AndOneThatIsNotJsonA415(AgentHarness node) throws Exception {
        var big = OversizedRequest.post(node.port(), MACHINES, Optional.empty(), 2 << 20);
        assertThat(big.status()).as("%s", big).isEqualTo(413);
        assertThat(big.errorCode()).isEqualTo("too_large");
        AgentHarness.Response text = node.post(MACHINES, "image=x", "text/plain");
        assertThat(text.status()).isEqualTo(415);
        assertThat(text.errorCode()).isEqualTo("unsupported_media_type");
        assertThat(node.get(MACHINES).json()).isEmpty();
    }

    @Test
    void theServedDocumentDescribesTheNodeApi(AgentHarness node) {
        AgentHarness.Response doc = node.get("/api/v1/openapi.json");
        assertThat(doc.status()).isEqualTo(200);
        assertThat(doc.json().path("openapi").asString()).isEqualTo("3.1.0");
        assertThat(doc.json().path("paths").propertyNames()).contains("/api/v1/machines", "/api/v1/machines/{id}/wait",
                "/api/v1/images/pull");
    }
}
