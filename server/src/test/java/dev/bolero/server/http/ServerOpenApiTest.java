package dev.bolero.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.api.http.OpenApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The public document is built from the declared operations: every operation has an id, a tag and its 4XX answers
 * (the document itself has none),
 * and the node-to-server protocol is not in it. The document is written to {@code target/openapi/server.json} for
 * the Redocly lint in {@code scripts/test.sh}.
 */
class ServerOpenApiTest {
    @Test
    void everyPublishedOperationHasAnIdATagAndIts4xxAnswersAndTheProtocolIsLeftOut() throws IOException {
        JsonNode doc = OpenApi.document(ServerRoutes.INFO, ServerRoutes.ALL);
        Path out = Path.of("target", "openapi", "server.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, ApiJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));

        int operations = 0;
        for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
            assertThat(path.getKey()).as("protocol paths are not published")
                    .doesNotContain("/join", "/assignments", "/heartbeat", "/streams/");
            for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
                String what = op.getKey() + " " + path.getKey();
                assertThat(op.getValue().path("operationId").asString()).as(what).isNotEmpty();
                assertThat(op.getValue().path("tags").size()).as(what).isEqualTo(1);
                if (!path.getKey().equals("/v1/openapi.json")) { // the document itself has no 4XX to give
                    assertThat(op.getValue().path("responses").propertyNames()).as(what)
                            .anyMatch(s -> s.startsWith("4"));
                }
                operations++;
            }
        }
        assertThat((long) operations).isEqualTo(ServerRoutes.ALL.stream().filter(o -> o.published()).count());
        assertThat(doc.path("components").path("schemas").path("CreateMachineSpec").path("properties")
                .propertyNames()).contains("image", "guest", "auto_destroy");
    }
}
