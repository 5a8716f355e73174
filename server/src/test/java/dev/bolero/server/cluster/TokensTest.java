package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Tokens are stored as their hex SHA-256, the same whichever thread hashes them. */
class TokensTest {
    @Test
    void aTokenIsStoredAsItsHexSha256() {
        // FIPS 180-2's example: SHA-256("abc").
        assertThat(Tokens.hash("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void concurrentHashesOfOneTokenAgree() throws Exception {
        String token = Tokens.generate();
        String expected = Tokens.hash(token);
        var hashes = new ArrayList<Future<String>>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 1000; i++) hashes.add(threads.submit(() -> Tokens.hash(token)));
        }
        for (var hash : hashes) assertThat(hash.get()).isEqualTo(expected);
    }
}
