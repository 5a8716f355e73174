package dev.bolero.agent.http;

import dev.bolero.agent.machine.MachineService;
import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.Image;
import dev.bolero.api.ImageGcResult;
import dev.bolero.api.ImportImageRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.PullImageRequest;
import dev.bolero.core.Digest;
import dev.bolero.oci.GcReport;
import dev.bolero.oci.ImageReference;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.OciException;
import dev.bolero.oci.PreparedImage;
import dev.bolero.oci.PullEvent;
import dev.bolero.oci.StoredImage;
import dev.bolero.api.http.Router;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.EofException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's image routes under {@code /api/v1/images}: list, pull (optionally streaming progress as NDJSON), import
 * from an archive, delete (refused with {@code 409 conflict} while a machine uses the image; its templates go with it)
 * and garbage collection; and the list of the node's templates under {@code /api/v1/templates}.
 */
public final class ImageRoutes {
    private static final Logger log = LoggerFactory.getLogger(ImageRoutes.class);
    private static final long PROGRESS_INTERVAL_NANOS = 200_000_000L;
    private static final String NDJSON = "application/x-ndjson";

    private final ImageStore images;
    private final MachineService machines;
    private final Path uploads;

    /** @param uploads where streamed archives are kept while they are imported */
    public ImageRoutes(ImageStore images, MachineService machines, Path uploads) {
        this.images = images;
        this.machines = machines;
        this.uploads = uploads;
    }

    /** Adds the routes. */
    void register(Router routes) {
        routes.handle(NodeRoutes.IMAGES, ctx -> ctx.json(list()));
        routes.handle(NodeRoutes.PULL, this::pull);
        routes.handle(NodeRoutes.IMPORT, this::importImage);
        routes.handle(NodeRoutes.GC, this::gc);
        routes.handle(NodeRoutes.IMAGE, ctx -> ctx.json(get(digest(ctx))));
        routes.handle(NodeRoutes.DELETE_IMAGE, this::delete);
        routes.handle(NodeRoutes.TEMPLATES, ctx -> ctx.json(machines.templates()));
    }

    private List<Image> list() {
        List<Machine> all = machines.list();
        List<Image> out = new ArrayList<>();
        try {
            for (StoredImage image : images.list()) {
                out.add(view(image, all));
            }
        } catch (OciException e) {
            throw new ApiException(ErrorCode.INTERNAL, e.getMessage());
        }
        return out;
    }

    private Image get(Digest digest) {
        try {
            return view(images.find(digest).orElseThrow(() -> ApiException.notFound("image " + digest + " not found")),
                    machines.list());
        } catch (OciException e) {
            throw new ApiException(ErrorCode.INTERNAL, e.getMessage());
        }
    }

    private void pull(Context ctx) throws IOException {
        PullImageRequest request = NodeApi.body(ctx, PullImageRequest.class, "pull image");
        if (!NodeApi.booleanParam(ctx, "progress")) {
            PreparedImage prepared = prepare(request.image(), event -> { });
            ctx.json(get(prepared.digest()));
            return;
        }
        ctx.status(200).contentType(NDJSON);
        OutputStream out = ctx.outputStream();
        Map<Digest, Long> lastSent = new ConcurrentHashMap<>();
        Object writeLock = new Object();
        try {
            Map<String, Object> result;
            try {
                PreparedImage prepared = prepare(request.image(), event -> {
                    Map<String, Object> line = progressLine(event, lastSent);
                    if (line != null) {
                        synchronized (writeLock) {
                            writeLine(out, line);
                        }
                    }
                });
                result = Map.of("image", get(prepared.digest()));
            } catch (ApiException e) {
                result = Map.of("error", e.toError().error());
            }
            synchronized (writeLock) {
                writeLine(out, result);
            }
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof EofException)) throw e.getCause();
            log.debug("pull {}: client went away", request.image());
        }
    }

    /** An NDJSON progress line, or null to skip one (layer progress is sent at most every 200 ms per layer). */
    private static Map<String, Object> progressLine(PullEvent event, Map<Digest, Long> lastSent) {
        return switch (event) {
            case PullEvent.LayerProgress p -> {
                long now = System.nanoTime();
                Long last = lastSent.get(p.layer());
                if (!p.complete() && p.bytes() > 0 && last != null && now - last < PROGRESS_INTERVAL_NANOS) yield null;
                lastSent.put(p.layer(), now);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("layer", p.layer().toString());
                line.put("bytes", p.bytes());
                line.put("size", p.size());
                line.put("complete", p.complete());
                line.put("cached", p.cached());
                yield line;
            }
            case PullEvent.BuildingDrive b -> Map.of("building", b.image().toString(), "layers", b.layers());
        };
    }

    private static void writeLine(OutputStream out, Map<String, Object> line) {
        try {
            out.write(ApiJson.mapper().writeValueAsBytes(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PreparedImage prepare(String reference, dev.bolero.oci.PullListener listener) {
        try {
            return images.prepare(reference, listener);
        } catch (OciException e) {
            throw ApiException.failedPrecondition(e.getMessage());
        }
    }

    /** A JSON body names an archive on the node; any other body is the archive itself, streamed. */
    private void importImage(Context ctx) throws IOException {
        String type = Optional.ofNullable(ctx.contentType()).orElse("");
        PreparedImage prepared;
        if (type.startsWith("application/json")) {
            ImportImageRequest request = NodeApi.body(ctx, ImportImageRequest.class, "import image");
            prepared = importFrom(Path.of(request.path()), request.path());
        } else {
            Files.createDirectories(uploads);
            Path upload = Files.createTempFile(uploads, "import-", ".tar");
            try {
                try (InputStream in = ctx.bodyInputStream()) {
                    Files.copy(in, upload, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                prepared = importFrom(upload, "the uploaded archive");
            } finally {
                Files.deleteIfExists(upload);
            }
        }
        ctx.status(201).json(get(prepared.digest()));
    }

    private PreparedImage importFrom(Path path, String what) {
        try {
            return images.importImage(path);
        } catch (OciException e) {
            throw ApiException.failedPrecondition(e.getMessage().replace(path.toString(), what));
        }
    }

    private void delete(Context ctx) throws OciException {
        Digest digest = digest(ctx);
        Image image = get(digest);
        if (!image.machines().isEmpty()) {
            throw ApiException.conflict("delete image " + digest + ": in use by machines " + image.machines());
        }
        images.delete(digest);
        machines.removeTemplatesOf(digest.toString());
        ctx.status(204);
    }

    /** Collects unreferenced blobs and leftovers; with {@code ?unused=true} first deletes images no machine uses. */
    private void gc(Context ctx) throws OciException {
        List<String> removed = new ArrayList<>();
        if (NodeApi.booleanParam(ctx, "unused")) {
            for (Image image : list()) {
                if (image.machines().isEmpty() && images.delete(Digest.parse(image.digest()))) {
                    removed.add(image.digest());
                    machines.removeTemplatesOf(image.digest());
                }
            }
        }
        GcReport report = images.collectGarbage();
        ctx.json(new ImageGcResult(removed, report.blobs(), report.bytes(), report.temporaries()));
    }

    private static Image view(StoredImage image, List<Machine> machines) {
        List<String> users = machines.stream().filter(m -> uses(m, image)).map(Machine::id).toList();
        return new Image(image.digest().toString(), image.references(), image.imported(), image.rootDriveBytes(),
                image.builtAt(), users);
    }

    /** Whether a machine resolved to the image, or (not started yet) names it by one of its references or its digest. */
    private static boolean uses(Machine machine, StoredImage image) {
        if (machine.imageDigest() != null) return machine.imageDigest().equals(image.digest().toString());
        try {
            ImageReference reference = ImageReference.parse(machine.config().image().value());
            return reference.digest().map(image.digest()::equals).orElse(false)
                    || image.references().contains(reference.toString());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static Digest digest(Context ctx) {
        String text = ctx.pathParam("digest");
        try {
            return Digest.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("image digest: " + e.getMessage());
        }
    }
}
