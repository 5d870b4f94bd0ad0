#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "CCrypto.h"

void cz_free(void *p) { free(p); }

static char *bio_string(BIO *bio) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    char *copy = malloc((size_t)length + 1);
    if (!copy) return NULL;
    memcpy(copy, data, (size_t)length);
    copy[length] = 0;
    return copy;
}

static char *key_pem(EVP_PKEY *key) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) out = bio_string(bio);
    BIO_free(bio);
    return out;
}

static char *cert_pem(X509 *cert) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio && PEM_write_bio_X509(bio, cert)) out = bio_string(bio);
    BIO_free(bio);
    return out;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn, int days, int ca, const char *san) {
    X509 *cert = X509_new();
    BIGNUM *serial = BN_new();
    int ok = cert && serial && X509_set_version(cert, 2) && BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
        && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != NULL
        && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400)
        && X509_set_pubkey(cert, key);
    BN_free(serial);
    if (!ok) { X509_free(cert); return NULL; }
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"onekube", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *issuerCert = issuer ? issuer : cert;
    X509_set_issuer_name(cert, X509_get_subject_name(issuerCert));
    if (ca) {
        ok = add_ext(cert, issuerCert, NID_basic_constraints, "critical,CA:TRUE")
            && add_ext(cert, issuerCert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")
            && add_ext(cert, issuerCert, NID_subject_key_identifier, "hash");
    } else {
        ok = add_ext(cert, issuerCert, NID_basic_constraints, "critical,CA:FALSE")
            && add_ext(cert, issuerCert, NID_key_usage, "critical,digitalSignature,keyEncipherment")
            && add_ext(cert, issuerCert, NID_ext_key_usage, "serverAuth")
            && add_ext(cert, issuerCert, NID_subject_alt_name, san)
            && add_ext(cert, issuerCert, NID_authority_key_identifier, "keyid");
    }
    if (!ok || !X509_sign(cert, signer, EVP_sha256())) { X509_free(cert); return NULL; }
    return cert;
}

static EVP_PKEY *read_key(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

static X509 *read_cert(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

int cz_make_cluster_certificates(const char *ca_key_pem_in, const char *ca_cert_pem_in, const char *san, int days,
                                 char **ca_key_pem, char **ca_cert_pem, char **server_key_pem, char **server_cert_pem) {
    EVP_PKEY *caKey = NULL, *serverKey = NULL;
    X509 *caCert = NULL, *serverCert = NULL;
    int ok = 0;
    if (ca_key_pem_in && ca_cert_pem_in) {
        caKey = read_key(ca_key_pem_in);
        caCert = read_cert(ca_cert_pem_in);
    } else {
        caKey = EVP_EC_gen("P-256");
        caCert = caKey ? make_cert(caKey, caKey, NULL, "onekubeCA", days * 3, 1, NULL) : NULL;
    }
    serverKey = EVP_EC_gen("P-256");
    if (caKey && caCert && serverKey) serverCert = make_cert(serverKey, caKey, caCert, "onekube-apiserver", days, 0, san);
    if (serverCert) {
        *ca_key_pem = key_pem(caKey);
        *ca_cert_pem = cert_pem(caCert);
        *server_key_pem = key_pem(serverKey);
        *server_cert_pem = cert_pem(serverCert);
        ok = *ca_key_pem && *ca_cert_pem && *server_key_pem && *server_cert_pem;
    }
    EVP_PKEY_free(caKey);
    EVP_PKEY_free(serverKey);
    X509_free(caCert);
    X509_free(serverCert);
    return ok;
}
