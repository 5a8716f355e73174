package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;

/** One registry API call: where it goes, what it accepts, and what it makes of a successful response. */
interface RegistryEndpoint<T> {
    /** What is fetched, for messages: {@code manifest 1}, {@code blob sha256:…}. */
    String describe();

    /** The path after {@code /v2/}, e.g. {@code library/busybox/manifests/latest}. */
    String path(ImageReference reference);

    List<String> accept();

    /** Handles a 2xx response, whose body is read from {@code body}; the body is closed by the caller. */
    T handle(HttpResponse<?> response, InputStream body) throws IOException, PullException;
}
