package dev.bolero.api.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ExecResult;
import dev.bolero.api.http.OpenApi;
import dev.bolero.api.http.Operation;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The contract refuses answers the generated document does not describe. */
class ApiContractTest {
    private static final Operation EXEC = Operation.post("/x/{id}/exec").id("exec").tag("t").summary("runs")
            .body(ExecResult.class).returns(200, ExecResult.class).errors(409).build();
    private static final ApiContract CONTRACT = new ApiContract(OpenApi.document(
            new OpenApi.Info("test", "1", "a test API", false, Map.of("t", "things"), List.of()), List.of(EXEC)));
    private static final String JSON = "application/json";

    @Test
    void aConformingAnswerPasses() {
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 200, JSON,
                "{\"exit_code\": 0, \"stdout\": \"hi\", \"stderr\": null, \"timed_out\": false, \"truncated\": false}"))
                .isEmpty();
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 409, JSON,
                "{\"error\": {\"code\": \"conflict\", \"message\": \"busy\"}}")).isEmpty();
        assertThat(CONTRACT.violations("GET", "/nowhere", 404, JSON,
                "{\"error\": {\"code\": \"not_found\", \"message\": \"no route\"}}")).isEmpty();
    }

    @Test
    void aWrongTypeAnUnknownFieldAnUndeclaredStatusOrAnUndescribedPathFails() {
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 200, JSON, "{\"exit_code\": \"0\"}")).isNotEmpty();
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 200, JSON, "{\"exit_code\": 0, \"colour\": 1}"))
                .isNotEmpty();
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 408, JSON,
                "{\"error\": {\"code\": \"timeout\", \"message\": \"late\"}}")).isNotEmpty();
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 409, JSON, "{\"error\": {\"code\": \"nope\"}}"))
                .isNotEmpty();
        assertThat(CONTRACT.violations("POST", "/x/a/exec", 200, "text/plain", "hi")).isNotEmpty();
        assertThat(CONTRACT.violations("GET", "/nowhere", 200, JSON, "{}")).isNotEmpty();
    }
}
