package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateStoreTest {
    private static final Instant T0 = Instant.parse("2026-12-03T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aTakenTemplateIsPrivateCheckedAndSurvivesAReopen() throws IOException {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT);
        TemplateKey key = key(1);

        TemplateStore.Template t = take(store, key, "sha256:img", 1000, T0);

        assertThat(store.get(key)).contains(t);
        assertThat(t.bytes()).isEqualTo(1000 + "manifest".length());
        assertThat(store.damage(t)).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("templates"))))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                store.dir(key).resolve(TemplateStore.INFO)))).isEqualTo("rw-------");
        TemplateStore reopened = TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT);
        assertThat(reopened.get(key)).hasValueSatisfying(r -> {
            assertThat(r.imageDigest()).isEqualTo("sha256:img");
            assertThat(r.files()).isEqualTo(t.files());
            assertThat(r.source()).isEqualTo("m1");
        });
    }

    @Test
    void aTemplateIsTakenOnceAtATime() {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT);
        assertThat(store.claim(key(1))).isPresent();
        assertThat(store.claim(key(1))).as("being taken").isEmpty();
        store.release(key(1));
        assertThat(store.claim(key(1))).as("released").isPresent();
    }

    @Test
    void aCorruptedMissingOrResizedFileIsDamage() throws IOException {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT);
        TemplateStore.Template t = take(store, key(1), "sha256:img", 4096, T0);
        Path state = store.dir(key(1)).resolve("state");

        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.seek(100);
            f.write(0xff);
        }
        assertThat(store.damage(t)).hasValueSatisfying(d -> assertThat(d).contains("state", "checksum"));
        Files.write(state, new byte[10]);
        assertThat(store.damage(t)).hasValueSatisfying(d -> assertThat(d).contains("state has 10 bytes"));
        Files.delete(state);
        assertThat(store.damage(t)).hasValueSatisfying(d -> assertThat(d).contains("state is missing"));
    }

    @Test
    void theLeastRecentlyUsedGoBeyondTheCount() {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), new TemplateLimits(2, 1 << 30));
        take(store, key(1), "sha256:a", 10, T0);
        take(store, key(2), "sha256:b", 10, T0.plusSeconds(1));
        store.touch(key(1), T0.plusSeconds(2));

        take(store, key(3), "sha256:c", 10, T0.plusSeconds(3));

        assertThat(store.list()).extracting(TemplateStore.Template::key).containsExactly(key(3), key(1));
        assertThat(Files.exists(store.dir(key(2)))).as("its files went").isFalse();
    }

    @Test
    void theLeastRecentlyUsedGoBeyondTheBytesButNeverTheNewOne() {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), new TemplateLimits(10, 250));
        take(store, key(1), "sha256:a", 100, T0);
        take(store, key(2), "sha256:b", 100, T0.plusSeconds(1));
        assertThat(store.list()).hasSize(2);

        take(store, key(3), "sha256:c", 100, T0.plusSeconds(2));
        assertThat(store.list()).extracting(TemplateStore.Template::key).containsExactly(key(3), key(2));

        take(store, key(4), "sha256:d", 1000, T0.plusSeconds(3));
        assertThat(store.list()).as("a template alone over the budget is kept until the next")
                .extracting(TemplateStore.Template::key).containsExactly(key(4));
    }

    @Test
    void noTemplatesAreTakenUnderACountOfZero() {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), new TemplateLimits(0, 1 << 30));
        assertThat(store.claim(key(1))).isEmpty();
    }

    @Test
    void anImagesTemplatesGoWithIt() throws IOException {
        TemplateStore store = TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT);
        take(store, key(1), "sha256:a", 10, T0);
        take(store, key(2), "sha256:b", 10, T0);
        take(store, key(3), "sha256:a", 10, T0);

        assertThat(store.removeImage("sha256:a")).isEqualTo(2);

        assertThat(store.list()).extracting(TemplateStore.Template::key).containsExactly(key(2));
        try (var left = Files.list(dir.resolve("templates"))) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly(key(2).value());
        }
    }

    @Test
    void whatAnInterruptedTakeLeftIsRemovedOnOpen() throws IOException {
        Path templates = dir.resolve("templates");
        TemplateStore store = TemplateStore.open(templates, TemplateLimits.DEFAULT);
        take(store, key(1), "sha256:a", 10, T0);
        Path staging = store.claim(key(2)).orElseThrow();
        Files.createDirectories(staging);
        Files.writeString(staging.resolve("state"), "half");
        Files.createDirectories(templates.resolve(key(3).value())); // no info file

        TemplateStore reopened = TemplateStore.open(templates, TemplateLimits.DEFAULT);

        assertThat(reopened.list()).extracting(TemplateStore.Template::key).containsExactly(key(1));
        try (var left = Files.list(templates)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly(key(1).value());
        }
    }

    /** Claims {@code key} and completes it from a staging directory holding a state of {@code bytes} bytes. */
    private static TemplateStore.Template take(TemplateStore store, TemplateKey key, String image, int bytes,
            Instant at) {
        Optional<Path> staging = store.claim(key);
        assertThat(staging).isPresent();
        try {
            Files.createDirectories(staging.get());
            Files.write(staging.get().resolve("state"), new byte[bytes]);
            Files.writeString(staging.get().resolve("manifest"), "manifest");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return store.add(key, new TemplateStore.Origin("alpha", image, "m1"), at);
    }

    private static TemplateKey key(int n) {
        return new TemplateKey(String.format("%032x", n));
    }
}
