#!/bin/sh
# What the book's app.js does, with busybox: answer every request with "You've hit <hostname>".
echo "Kubia server starting..."
mkdir -p /www
echo "You've hit $(hostname)" > /www/index.html
exec httpd -f -p 8080 -h /www
