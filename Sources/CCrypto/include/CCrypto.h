#ifndef ONEKUBE_CCRYPTO_H
#define ONEKUBE_CCRYPTO_H
#include <openssl/evp.h>
#endif
