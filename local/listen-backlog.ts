/**
 * The accept queue of the local stand-ins for AWS IoT Core's endpoint and API Gateway. Node's
 * default (511) overflows when thousands of hosts connect at once: Linux then drops the client's
 * handshake ACK, the client believes it is connected and sends its TLS ClientHello into a
 * connection the server has not accepted, and waits for retransmissions (1 s, 3 s, 7 s, …) until
 * its TLS negotiation times out (aws-crt: 10 s). The AWS endpoints do not refuse connections that
 * way (IoT Core's documented limit is a connect rate per account, answered by the broker), so the
 * stand-ins ask for the largest queue Linux grants (net.core.somaxconn, 4096 by default; the kernel
 * caps larger requests silently).
 */
export const LISTEN_BACKLOG = 4096;
