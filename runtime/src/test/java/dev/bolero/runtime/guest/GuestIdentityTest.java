package dev.bolero.runtime.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** An IDENTITY payload holds the clone's identity as key/value pairs, the entropy in hex; malformed parts are refused. */
class GuestIdentityTest {
    private static final String MACHINE_ID = "0123456789abcdef0123456789abcdef";

    @Test
    void encodes_its_parts_as_pairs_leaving_out_what_is_absent() {
        byte[] entropy = new byte[16];
        entropy[0] = (byte) 0xab;
        var identity = new GuestIdentity("web-2", Optional.of("52:54:00:12:34:56"), Optional.of("10.0.0.7/24"),
                Optional.empty(), MACHINE_ID, entropy);

        assertThat(new String(identity.encode(), StandardCharsets.UTF_8)).isEqualTo("hostname\0web-2\0"
                + "mac\0" + "52:54:00:12:34:56\0ip\0" + "10.0.0.7/24\0machine_id\0" + MACHINE_ID + "\0"
                + "entropy\0ab" + "00".repeat(15) + "\0");
    }

    @Test
    void refuses_a_malformed_mac_machine_id_or_entropy() {
        assertThatThrownBy(() -> new GuestIdentity("h", Optional.of("52:54:00:12:34"), Optional.empty(),
                Optional.empty(), MACHINE_ID, new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestIdentity("h", Optional.empty(), Optional.empty(), Optional.empty(),
                "not-hex", new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestIdentity("h", Optional.empty(), Optional.empty(), Optional.empty(),
                MACHINE_ID, new byte[8])).isInstanceOf(IllegalArgumentException.class);
    }
}
