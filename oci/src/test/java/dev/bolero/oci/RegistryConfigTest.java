package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryConfigTest {
    @TempDir
    Path temp;

    @Test
    void dockerConfigAuthsAreReadInBothFormsWithDockerHubAliasesNormalised() throws IOException {
        String auth = Base64.getEncoder().encodeToString("alice:pa:ss".getBytes(StandardCharsets.UTF_8));
        Path file = Files.writeString(temp.resolve("config.json"), "{\"auths\": {"
                + "\"https://index.docker.io/v1/\": {\"auth\": \"" + auth + "\"},"
                + "\"registry.example:5000\": {\"username\": \"bob\", \"password\": \"secret\"},"
                + "\"helper.example\": {}}, \"credsStore\": \"desktop\"}");

        var credentials = RegistryConfig.readDockerConfig(file);

        assertThat(credentials).containsOnlyKeys("docker.io", "registry.example:5000");
        assertThat(credentials.get("docker.io")).isEqualTo(new Credentials("alice", "pa:ss"));
        assertThat(credentials.get("registry.example:5000")).isEqualTo(new Credentials("bob", "secret"));
    }

    @Test
    void aMalformedAuthNamesTheFileAndTheEntry() throws IOException {
        String auth = Base64.getEncoder().encodeToString("no-colon".getBytes(StandardCharsets.UTF_8));
        Path file = Files.writeString(temp.resolve("config.json"), "{\"auths\": {\"r.example\": {\"auth\": \"" + auth + "\"}}}");

        assertThatThrownBy(() -> RegistryConfig.readDockerConfig(file))
                .hasMessage("registry config " + file + ": entry r.example: auth is not base64 of user:password");
    }
}
