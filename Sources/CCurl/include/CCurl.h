#ifndef ONEKUBE_CCURL_H
#define ONEKUBE_CCURL_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift needs typed entry points.
CURLcode cz_curl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode cz_curl_setopt_string(CURL *h, CURLoption o, const char *v);
CURLcode cz_curl_setopt_pointer(CURL *h, CURLoption o, void *v);
CURLcode cz_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v);
CURLcode cz_curl_setopt_offt(CURL *h, CURLoption o, curl_off_t v);

typedef size_t (*cz_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
CURLcode cz_curl_setopt_write_function(CURL *h, cz_curl_data_cb cb);
CURLcode cz_curl_setopt_header_function(CURL *h, cz_curl_data_cb cb);
CURLcode cz_curl_setopt_read_function(CURL *h, cz_curl_data_cb cb);

CURLcode cz_curl_getinfo_long(CURL *h, CURLINFO i, long *v);
CURLcode cz_curl_getinfo_string(CURL *h, CURLINFO i, char **v);
CURLcode cz_curl_getinfo_offt(CURL *h, CURLINFO i, curl_off_t *v);
CURLcode cz_curl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v);

#endif
