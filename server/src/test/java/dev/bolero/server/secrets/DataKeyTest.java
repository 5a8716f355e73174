package dev.bolero.server.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataKeyTest {
    private static final byte[] VALUE = "hunter2-postgres-password".getBytes(StandardCharsets.UTF_8);
    private final String masterBase64 = MasterKeys.generate();
    private final MasterKeys master = MasterKeys.of(masterBase64, List.of());

    @Test
    void aSealedValueOpensOnlyAsItsOwnNamespaceNameAndVersion() {
        DataKey alpha = DataKey.create(master, "alpha");
        byte[] sealed = alpha.seal("DB_PASSWORD", 1, VALUE);

        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("hunter2");
        assertThat(DataKey.unwrap(master, "alpha", alpha.wrapped()).open("DB_PASSWORD", 1, sealed)).isEqualTo(VALUE);
        assertThatThrownBy(() -> alpha.open("OTHER", 1, sealed)).isInstanceOf(SecretsException.class)
                .hasMessage("open secret alpha/OTHER version 1: decrypt: the data was altered, or belongs elsewhere");
        assertThatThrownBy(() -> alpha.open("DB_PASSWORD", 2, sealed)).isInstanceOf(SecretsException.class);
        byte[] flipped = sealed.clone();
        flipped[flipped.length - 1] ^= 1;
        assertThatThrownBy(() -> alpha.open("DB_PASSWORD", 1, flipped)).isInstanceOf(SecretsException.class);
        assertThat(alpha.seal("DB_PASSWORD", 1, VALUE)).as("a fresh nonce each time").isNotEqualTo(sealed);
    }

    @Test
    void aWrappedKeyUnwrapsOnlyForItsNamespaceAndUnderAKnownMasterKey() {
        DataKey alpha = DataKey.create(master, "alpha");

        assertThatThrownBy(() -> DataKey.unwrap(master, "beta", alpha.wrapped()))
                .isInstanceOf(SecretsException.class);
        var stranger = MasterKeys.of(MasterKeys.generate(), List.of());
        assertThatThrownBy(() -> DataKey.unwrap(stranger, "alpha", alpha.wrapped()))
                .hasMessageContaining("it was wrapped by master key " + master.currentId())
                .hasMessageContaining("which this server does not have");
    }

    @Test
    void aRotationRewrapsDataKeysWithoutTouchingSealedValues() {
        DataKey alpha = DataKey.create(master, "alpha");
        byte[] sealed = alpha.seal("TOKEN", 3, VALUE);
        String newKey = MasterKeys.generate();
        var rotated = MasterKeys.of(newKey, List.of(masterBase64));

        byte[] rewrapped = DataKey.unwrap(rotated, "alpha", alpha.wrapped()).rewrapped(rotated);

        assertThat(rewrapped).isNotNull();
        assertThat(MasterKeys.wrappedBy(rewrapped)).contains(rotated.currentId());
        var newOnly = MasterKeys.of(newKey, List.of());
        assertThat(DataKey.unwrap(newOnly, "alpha", rewrapped).open("TOKEN", 3, sealed)).isEqualTo(VALUE);
        assertThat(DataKey.unwrap(newOnly, "alpha", rewrapped).rewrapped(newOnly)).as("already current").isNull();
    }

    @Test
    void digestsAreStablePerNamespaceAndKeyedSoTheyCannotBeCheckedAgainstAGuess() throws Exception {
        DataKey alpha = DataKey.create(master, "alpha");
        DataKey beta = DataKey.create(master, "beta");

        assertThat(alpha.digest(VALUE)).startsWith("hmac-sha256:").isEqualTo(alpha.digest(VALUE.clone()))
                .isNotEqualTo(beta.digest(VALUE));
        String plain = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(VALUE));
        assertThat(alpha.digest(VALUE)).doesNotContain(plain);
    }

    @Test
    void aMasterKeyFileIsCreatedPrivateAndReadBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("master.key");

        var first = MasterKeys.fromFile(file, List.of());
        var again = MasterKeys.fromFile(file, List.of());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(again.currentId()).isEqualTo(first.currentId());
        assertThatThrownBy(() -> MasterKeys.of("c2hvcnQ=", List.of()))
                .hasMessage("the master key must be 32 bytes, got 5");
        assertThatThrownBy(() -> MasterKeys.of(MasterKeys.generate(), List.of("not base64!")))
                .hasMessage("previous master key 1 is not base64");
    }
}
