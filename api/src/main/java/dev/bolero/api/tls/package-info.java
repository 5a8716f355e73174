/** TLS material as the API carries it: PEM certificate chains and private keys ({@link dev.bolero.api.tls.Pem}). */
package dev.bolero.api.tls;
