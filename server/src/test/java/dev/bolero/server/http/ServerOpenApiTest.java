package dev.bolero.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.http.OpenApi;
import dev.bolero.api.testing.OpenApiDocuments;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The public document is built from the declared operations: every operation has an id, a tag and its 4XX answers
 *, and the node-to-server protocol is not in it. The document is written to
 * {@code target/openapi/server.json} for the Redocly lint in {@code scripts/test.sh}.
 */
class ServerOpenApiTest {
    @Test
    void everyPublishedOperationHasAnIdATagAndIts4xxAnswersAndTheProtocolIsLeftOut() {
        JsonNode doc = OpenApi.document(ServerRoutes.INFO, ServerRoutes.ALL);
        int operations = OpenApiDocuments.check("server", doc, Set.of(),
                Set.of("/v1/nodes/join", "/v1/nodes/{id}/assignments", "/v1/nodes/{id}/heartbeat",
                        "/v1/nodes/{id}/streams"));
        assertThat((long) operations).isEqualTo(ServerRoutes.ALL.stream().filter(o -> o.published()).count());
        assertThat(doc.path("components").path("schemas").path("CreateClusterMachine").path("properties")
                .propertyNames()).contains("name", "start", "config");
    }
}
