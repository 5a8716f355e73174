package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {
    private static final String HEX = "a".repeat(64);

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            busybox                                  | docker.io/library/busybox:latest          | registry-1.docker.io | latest
            busybox:1.36                             | docker.io/library/busybox:1.36            | registry-1.docker.io | 1.36
            library/busybox                          | docker.io/library/busybox:latest          | registry-1.docker.io | latest
            docker.io/busybox                        | docker.io/library/busybox:latest          | registry-1.docker.io | latest
            index.docker.io/library/busybox:1        | docker.io/library/busybox:1               | registry-1.docker.io | 1
            someone/app:v2                           | docker.io/someone/app:v2                  | registry-1.docker.io | v2
            ghcr.io/org/team/app:1.0                 | ghcr.io/org/team/app:1.0                  | ghcr.io              | 1.0
            127.0.0.1:5000/x:1                       | 127.0.0.1:5000/x:1                        | 127.0.0.1:5000       | 1
            localhost/app                            | localhost/app:latest                      | localhost            | latest
            localhost:5000/a/b/c:t_1                 | localhost:5000/a/b/c:t_1                  | localhost:5000       | t_1
            registry.example.com:443/a.b/c__d/e-f:X  | registry.example.com:443/a.b/c__d/e-f:X   | registry.example.com:443 | X
            """)
    void parsesAndNormalises(String input, String canonical, String apiHost, String manifestReference) {
        ImageReference reference = ImageReference.parse(input);
        assertThat(reference.toString()).isEqualTo(canonical);
        assertThat(reference.apiHost()).isEqualTo(apiHost);
        assertThat(reference.manifestReference()).isEqualTo(manifestReference);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            busybox@sha256:AAAA                  | digest
            127.0.0.1:5000/x@sha256:ab           | 64 lowercase hex
            x@md5:abc                            | not supported
            Busybox                              | lowercase
            ''                                   | empty
            ' busybox'                           | whitespace
            host:5000/                           | repository
            a//b                                 | invalid component ''
            a/-b                                 | invalid component '-b'
            x:-tag                               | tag '-tag'
            x:                                   | tag ''
            bad_host:5000/x                      | registry 'bad_host:5000'
            """)
    void rejectsInvalidInputNamingItAndTheProblem(String input, String problem) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid image reference '" + input + "'")
                .hasMessageContaining(problem);
    }

    @org.junit.jupiter.api.Test
    void aDigestIsWhatIsPulledAndTheTagIsKeptForDisplay() {
        ImageReference reference = ImageReference.parse("127.0.0.1:5000/app:1@sha256:" + HEX);
        assertThat(reference.digest()).contains(Digest.of("sha256", HEX));
        assertThat(reference.tag()).contains("1");
        assertThat(reference.manifestReference()).isEqualTo("sha256:" + HEX);
        assertThat(reference.toString()).isEqualTo("127.0.0.1:5000/app:1@sha256:" + HEX);

        ImageReference digestOnly = ImageReference.parse("busybox@sha256:" + HEX);
        assertThat(digestOnly.tag()).isEmpty();
        assertThat(digestOnly.toString()).isEqualTo("docker.io/library/busybox@sha256:" + HEX);
    }

    @org.junit.jupiter.api.Test
    void digestsAreSha256WithLowercaseHex() {
        assertThat(Digest.parse("sha256:" + HEX)).isEqualTo(Digest.of("sha256", HEX));
        assertThat(Digest.parse("sha256:" + HEX).toString()).isEqualTo("sha256:" + HEX);
        assertThatThrownBy(() -> Digest.parse("sha512:" + HEX)).hasMessageContaining("'sha512:");
        assertThatThrownBy(() -> Digest.parse(HEX)).hasMessageContaining("sha256:<hex>");
        assertThatThrownBy(() -> Digest.of("sha256", HEX.substring(1))).hasMessageContaining("64 lowercase hex");
    }
}
