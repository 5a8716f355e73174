package dev.bolero.agent.machine;

import dev.bolero.api.PrivateFiles;
import dev.bolero.core.FileTrees;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's templates on disk: one directory per {@link TemplateKey} under the store's directory ({@code 0700}),
 * holding a VM's saved state as the driver wrote it (a seed: see {@code VmProcess#seed}) and {@value #INFO}: what the
 * template is of, and every file's size and CRC-32C, checked before each use ({@link #damage}). A template is
 * complete once its directory has its final name: it is assembled under {@code KEY.staging} and renamed.
 *
 * <p>Bounded by {@link TemplateLimits}: adding one removes the least recently used beyond them (a template's use
 * time is its info file's modification time, so it survives agent restarts). Removing a template never disturbs the
 * machines started from it: they hold hard links of its files. Thread-safe.
 */
public final class TemplateStore {
    private static final Logger log = LoggerFactory.getLogger(TemplateStore.class);
    static final String INFO = "template.properties";
    private static final String STAGING = ".staging";
    private static final String FILE_PREFIX = "file.";

    /**
     * A complete template.
     *
     * @param imageDigest the image its machine ran
     * @param source the machine it was taken from
     * @param bytes the disk its files take (their data regions: a RAM image is mostly holes)
     * @param files each file's name and {@code SIZE:CRC32C}
     * @param lastUsed when a machine last started from it (or it was taken)
     */
    record Template(TemplateKey key, String namespace, String imageDigest, String source, Instant takenAt, long bytes,
            Map<String, String> files, Instant lastUsed) {
        Template {
            Objects.requireNonNull(key, "key");
            files = Map.copyOf(files);
        }

        Template used(Instant at) {
            return new Template(key, namespace, imageDigest, source, takenAt, bytes, files, at);
        }
    }

    /** What a template being taken is of: its machine's namespace and image, and the machine. */
    record Origin(String namespace, String imageDigest, String source) {}

    private final Path dir;
    private final TemplateLimits limits;
    private final Map<TemplateKey, Template> templates = new HashMap<>();
    /** Keys whose template is being taken. */
    private final Set<TemplateKey> taking = new HashSet<>();

    private TemplateStore(Path dir, TemplateLimits limits) {
        this.dir = dir;
        this.limits = limits;
    }

    /**
     * The store in {@code dir} (made {@code 0700} when absent): its complete templates are loaded; what an interrupted
     * take left (staging directories, directories without a readable info file) is removed.
     *
     * @throws UncheckedIOException when the directory cannot be made or listed
     */
    public static TemplateStore open(Path dir, TemplateLimits limits) {
        TemplateStore store = new TemplateStore(dir, limits);
        try {
            PrivateFiles.directory(dir);
            try (Stream<Path> entries = Files.list(dir)) {
                for (Path p : entries.toList()) {
                    Optional<Template> t = Optional.empty();
                    String name = p.getFileName().toString();
                    if (Files.isDirectory(p) && name.matches("[0-9a-f]{32}")) t = read(new TemplateKey(name), p);
                    if (t.isPresent()) {
                        store.templates.put(t.get().key(), t.get());
                    } else {
                        log.info("template leftover={} removed", p);
                        FileTrees.delete(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("open the template store " + dir + ": " + e.getMessage(), e);
        }
        return store;
    }

    /** The templates, most recently used first. */
    synchronized List<Template> list() {
        return templates.values().stream().sorted(Comparator.comparing(Template::lastUsed).reversed()).toList();
    }

    /** The complete template of {@code key}, if the store holds one. */
    synchronized Optional<Template> get(TemplateKey key) {
        return Optional.ofNullable(templates.get(key));
    }

    /** The directory of {@code key}'s template: the driver's seed. */
    Path dir(TemplateKey key) {
        return dir.resolve(key.value());
    }

    /**
     * Claims the taking of {@code key}'s template when the store has none and none is being taken, and the limits
     * allow templates at all: returns the staging directory to save the VM's state into (absent; the driver makes it).
     * {@link #add} or {@link #release} ends the claim.
     */
    synchronized Optional<Path> claim(TemplateKey key) {
        if (limits.maxTemplates() == 0 || templates.containsKey(key) || !taking.add(key)) return Optional.empty();
        Path staging = staging(key);
        deleteQuietly(staging);
        return Optional.of(staging);
    }

    /** Gives up a {@link #claim}: its staging directory goes. */
    void release(TemplateKey key) {
        deleteQuietly(staging(key));
        synchronized (this) {
            taking.remove(key);
        }
    }

    /**
     * Completes the claimed template of {@code key} from its staging directory, where the driver saved a VM's state:
     * records every file's size and checksum and moves it in place; then removes the least recently used other
     * templates while the store is beyond its limits (this one stays, even alone beyond them).
     *
     * @throws UncheckedIOException when it cannot be completed: the claim is released
     */
    Template add(TemplateKey key, Origin origin, Instant now) {
        Path staging = staging(key);
        Template t;
        try {
            Map<String, String> files = new TreeMap<>();
            long bytes = 0;
            try (Stream<Path> entries = Files.list(staging)) {
                for (Path f : entries.sorted().toList()) {
                    files.put(f.getFileName().toString(), Files.size(f) + ":" + crc(f));
                    bytes += SparseFile.dataBytes(f);
                }
            }
            t = new Template(key, origin.namespace(), origin.imageDigest(), origin.source(), now, bytes, files, now);
            write(staging.resolve(INFO), t);
            Files.move(staging, dir(key), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            release(key);
            throw new UncheckedIOException("take template " + key + ": " + e.getMessage(), e);
        }
        List<Template> evicted = new ArrayList<>();
        synchronized (this) {
            taking.remove(key);
            templates.put(key, t);
            long total = templates.values().stream().mapToLong(Template::bytes).sum();
            List<Template> byAge = templates.values().stream().filter(x -> !x.key().equals(key))
                    .sorted(Comparator.comparing(Template::lastUsed)).toList();
            for (Template old : byAge) {
                if (templates.size() <= limits.maxTemplates() && total <= limits.maxBytes()) break;
                templates.remove(old.key());
                total -= old.bytes();
                evicted.add(old);
            }
        }
        evicted.forEach(old -> {
            log.info("template={} evicted image={} (over {} templates or {} bytes)", old.key(), old.imageDigest(),
                    limits.maxTemplates(), limits.maxBytes());
            deleteQuietly(dir(old.key()));
        });
        return t;
    }

    /**
     * What is wrong with {@code t}'s files, if anything: a file missing, added, of another size or checksum than when
     * it was taken. Reads every file's data (CRC-32C; holes are not read).
     */
    Optional<String> damage(Template t) {
        Path d = dir(t.key());
        try (Stream<Path> entries = Files.list(d)) {
            Set<String> present = new HashSet<>();
            entries.forEach(p -> present.add(p.getFileName().toString()));
            present.remove(INFO);
            for (var e : t.files().entrySet()) {
                Path f = d.resolve(e.getKey());
                if (!present.remove(e.getKey())) return Optional.of("file " + e.getKey() + " is missing");
                String size = e.getValue().substring(0, e.getValue().indexOf(':'));
                if (!size.equals(Long.toString(Files.size(f)))) {
                    return Optional.of("file " + e.getKey() + " has " + Files.size(f) + " bytes, it was taken with "
                            + size);
                }
                if (!e.getValue().equals(Files.size(f) + ":" + crc(f))) {
                    return Optional.of("file " + e.getKey() + " does not match its checksum (corrupted)");
                }
            }
            if (!present.isEmpty()) return Optional.of("unexpected files " + present.stream().sorted().toList());
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("read its files: " + e.getMessage());
        }
    }

    /** Records that a machine started from {@code key}'s template now. */
    void touch(TemplateKey key, Instant now) {
        synchronized (this) {
            Template t = templates.get(key);
            if (t == null) return;
            templates.put(key, t.used(now));
        }
        try {
            Files.setLastModifiedTime(dir(key).resolve(INFO), FileTime.from(now));
        } catch (IOException e) {
            log.debug("template={} touch failed={}", key, e.getMessage());
        }
    }

    /** Removes {@code key}'s template, if any; a machine started from it keeps its own links of its files. */
    void remove(TemplateKey key) {
        synchronized (this) {
            if (templates.remove(key) == null) return;
        }
        deleteQuietly(dir(key));
    }

    /** Removes the templates of the image {@code digest} (it was deleted from the node); returns how many. */
    int removeImage(String digest) {
        List<TemplateKey> keys;
        synchronized (this) {
            keys = templates.values().stream().filter(t -> t.imageDigest().equals(digest)).map(Template::key).toList();
        }
        keys.forEach(this::remove);
        return keys.size();
    }

    private static void deleteQuietly(Path tree) {
        try {
            FileTrees.delete(tree);
        } catch (IOException e) {
            log.warn("delete {} failed: {}", tree, e.getMessage());
        }
    }

    private Path staging(TemplateKey key) {
        return dir.resolve(key.value() + STAGING);
    }

    /** The CRC-32C of all of {@code file}'s bytes; its holes count as the zeros they read as, without reading them. */
    private static String crc(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        SparseFile.update(crc, file);
        return Long.toHexString(crc.getValue());
    }

    private static void write(Path file, Template t) throws IOException {
        Properties p = new Properties();
        p.setProperty("namespace", t.namespace());
        p.setProperty("image", t.imageDigest());
        p.setProperty("source", t.source());
        p.setProperty("taken_at", t.takenAt().toString());
        t.files().forEach((name, sum) -> p.setProperty(FILE_PREFIX + name, sum));
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(out, null);
        }
    }

    /** The template in {@code d}, or empty when its info file is missing or unreadable. */
    private static Optional<Template> read(TemplateKey key, Path d) {
        Path info = d.resolve(INFO);
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(info, StandardCharsets.UTF_8)) {
            p.load(in);
            Map<String, String> files = new TreeMap<>();
            long bytes = 0;
            for (String name : p.stringPropertyNames()) {
                if (!name.startsWith(FILE_PREFIX)) continue;
                Path file = d.resolve(name.substring(FILE_PREFIX.length()));
                files.put(file.getFileName().toString(), p.getProperty(name));
                if (Files.exists(file)) bytes += SparseFile.dataBytes(file); // a missing one is found at use (damage)
            }
            return Optional.of(new Template(key, Objects.requireNonNull(p.getProperty("namespace")),
                    Objects.requireNonNull(p.getProperty("image")), Objects.requireNonNull(p.getProperty("source")),
                    Instant.parse(p.getProperty("taken_at")), bytes, files,
                    Files.getLastModifiedTime(info).toInstant()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
