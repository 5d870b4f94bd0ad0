-- wrk script: POST a pod with generateName, so every request creates a new object.
wrk.method = "POST"
wrk.body = '{"metadata":{"generateName":"wrk-","labels":{"bench":"wrk"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ONEKUBE_TOKEN")
