#ifndef ONEKUBE_CCRYPTO_H
#define ONEKUBE_CCRYPTO_H
#include <openssl/evp.h>

/// Makes a cluster CA (EC P-256, self-signed) and a server certificate it signs, with the given
/// subjectAltName (e.g. "IP:127.0.0.1,DNS:localhost"). Returns 1 and three malloc'd PEM strings
/// (free with cz_free), or 0.
int cz_make_cluster_certificates(const char *ca_key_pem_in, const char *ca_cert_pem_in, const char *san, int days,
                                 char **ca_key_pem, char **ca_cert_pem, char **server_key_pem, char **server_cert_pem);

void cz_free(void *p);
#endif
