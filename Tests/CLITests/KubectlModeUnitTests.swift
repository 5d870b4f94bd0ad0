import Foundation
import Platform
import Testing
@testable import CLI

/// The kubectl mode's pieces on sample objects: JSONPath templates (expected outputs are what
/// kubectl 1.32 printed for the same templates and objects), custom columns, --sort-by's order,
/// the table printer on a server Table.
@Suite("kubectl mode: templates, columns, sorting, tables")
struct KubectlModeUnitTests {
    static func json(_ text: String) throws -> OrderedJSON { try OrderedJSON(parsing: Array(text.utf8)) }

    static let pods = #"""
        {"apiVersion":"v1","kind":"List","items":[
          {"metadata":{"name":"kubia-10","labels":{"run":"kubia"}},"spec":{"containers":[{"name":"kubia","image":"luksa/kubia","ports":[{"containerPort":8080}]}]},
           "status":{"phase":"Running","podIP":"10.244.0.10"}},
          {"metadata":{"name":"kubia-9","labels":{"run":"kubia","tier":"web"}},"spec":{"containers":[{"name":"kubia","image":"luksa/kubia:v2"},{"name":"side","image":"busybox"}]},
           "status":{"phase":"Pending"}}]}
        """#

    static let templateCases: [(String, String)] = [
        ("{.items[*].metadata.name}", "kubia-10 kubia-9"),
        (#"{range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}"#, "kubia-10\tRunning\nkubia-9\tPending\n"),
        ("name: {.items[0].metadata.name}!", "name: kubia-10!"),
        (#"{.items[?(@.status.phase=="Running")].metadata.name}"#, "kubia-10"),
        ("{.items[?(@.status.podIP)].status.podIP}", "10.244.0.10"),
        ("{..image}", "luksa/kubia luksa/kubia:v2 busybox"),
        ("{.items[-1:].metadata.labels}", #"{"run":"kubia","tier":"web"}"#),
        ("{.items[1].spec.containers[*]['name','image']}", "kubia luksa/kubia:v2 side busybox"),
        ("{.items[0].spec.containers[0].ports[0].containerPort}", "8080"),
        ("{.items[5].metadata.name}", ""),
        ("{.items[0].metadata.nosuch}", ""),
        ("{.items[0:1].metadata.name}{.kind}", "kubia-10List"),
        ("{$.kind}", "List"),
    ]

    @Test("JSONPath templates render as kubectl renders them", arguments: templateCases)
    func templates(template: String, expected: String) throws {
        #expect(try KubectlJSONPath(template).render(try Self.json(Self.pods)) == expected)
    }

    @Test func malformedTemplatesAreRefused() {
        #expect(throws: KubectlJSONPath.ParseError.self) { try KubectlJSONPath("{.items[0].metadata.name") }
        #expect(throws: KubectlJSONPath.ParseError.self) { try KubectlJSONPath("{range .items[*]}{.a}") }
        #expect(throws: KubectlJSONPath.ParseError.self) { try KubectlJSONPath("{end}") }
    }

    @Test func relaxedExpressions() {
        #expect(KubectlJSONPath.relaxed(".metadata.name") == "{.metadata.name}")
        #expect(KubectlJSONPath.relaxed("metadata.name") == "{.metadata.name}")
        #expect(KubectlJSONPath.relaxed("{.metadata.name}") == "{.metadata.name}")
    }

    @Test func goValuesPrintAsFmtDoes() {
        #expect(KubectlJSONPath.goValue(.object([("b", .int(1)), ("a", .string("x"))])) == "map[a:x b:1]")
        #expect(KubectlJSONPath.goValue(.array([.int(80), .int(443)])) == "[80 443]")
        #expect(KubectlJSONPath.goValue(.double(1.5)) == "1.5")
        #expect(KubectlJSONPath.goValue(.double(8080)) == "8080")
        #expect(KubectlJSONPath.goValue(.null) == "<nil>")
        #expect(KubectlJSONPath.text(.object([("a", .string("<b>&"))])) == #"{"a":"\u003cb\u003e\u0026"}"#)
    }

    @Test func customColumns() throws {
        let items = try Self.json(Self.pods)["items"]?.arrayValue ?? []
        let printed = try KubectlCustomColumns("NAME:.metadata.name,IP:.status.podIP,IMAGES:.spec.containers[*].image,LABELS:metadata.labels").render(items)
        #expect(printed == """
            NAME       IP            IMAGES                   LABELS
            kubia-10   10.244.0.10   luksa/kubia              map[run:kubia]
            kubia-9    <none>        luksa/kubia:v2,busybox   map[run:kubia tier:web]

            """)
        #expect(throws: KubectlError.self) { try KubectlCustomColumns("NAME") }
    }

    @Test func sortByIsBytewiseAndStable() throws {
        let names = ["s-9", "s-10", "s-5b", "S-1", "s-44a", "s-9"]
        let objects = names.enumerated().map { index, name in
            OrderedJSON.object([("metadata", .object([("name", .string(name)), ("uid", .int(Int64(index)))]))])
        }
        // As kubectl 1.32 printed the same names.
        let sorted = try KubectlSortBy(".metadata.name").sort(objects) { $0 }
        #expect(sorted.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["S-1", "s-10", "s-44a", "s-5b", "s-9", "s-9"])
        #expect(sorted.compactMap { $0[path: ["metadata", "uid"]]?.intValue }.filter { [0, 5].contains($0) } == [0, 5], "stable among equals")
        #expect(throws: KubectlError.self) { try KubectlSortBy(".metadata.nosuch").sort(objects) { $0 } }
        let numbers = try KubectlSortBy("{.n}").sort([.object([("n", .int(10))]), .object([("n", .int(9))])]) { $0 }
        #expect(numbers.compactMap { $0["n"]?.intValue } == [9, 10])
    }

    @Test func tablesPrintAsKubectlPrintsThem() throws {
        let table = try Self.json(#"""
            {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},
             "columnDefinitions":[{"name":"Name","type":"string","priority":0},{"name":"Ready","type":"string","priority":0},
                                  {"name":"Restarts","type":"string","priority":0},{"name":"IP","type":"string","priority":1}],
             "rows":[{"cells":["kubia-4jfyf","1/1","0","10.244.0.4"],"object":{"metadata":{"name":"kubia-4jfyf","namespace":"default","labels":{"run":"kubia"}}}},
                     {"cells":["a","0/1","5 (2m ago)","<none>"],"object":{"metadata":{"name":"a","namespace":"default"}}}]}
            """#)
        #expect(KubectlTablePrinter().render(table) == """
            NAME          READY   RESTARTS
            kubia-4jfyf   1/1     0
            a             0/1     5 (2m ago)

            """)
        #expect(KubectlTablePrinter(wide: true, showLabels: true).render(table) == """
            NAME          READY   RESTARTS     IP           LABELS
            kubia-4jfyf   1/1     0            10.244.0.4   run=kubia
            a             0/1     5 (2m ago)   <none>       <none>

            """)
        #expect(KubectlTablePrinter(allNamespaces: true, labelColumns: ["run"], namePrefix: "pod").render(table) == """
            NAMESPACE   NAME              READY   RESTARTS     RUN
            default     pod/kubia-4jfyf   1/1     0            kubia
            default     pod/a             0/1     5 (2m ago)   

            """)
    }

    /// kubectl describe node's sums, as kubectl printed them for the same pods.
    @Test func quantitiesSumAndPrintAsKubernetesDoes() {
        var memory = KubectlQuantity()
        memory.combine(.string("64Mi"), max: false)
        memory.combine(.string("100M"), max: false)
        #expect(memory.description == "167108864")
        var cpu = KubectlQuantity()
        cpu.combine(.string("100m"), max: false)
        cpu.combine(.string("250m"), max: false)
        #expect(cpu.description == "350m")
        cpu.combine(.string("1.5"), max: true)
        #expect(cpu.description == "1500m")
        var limits = KubectlQuantity()
        limits.combine(.string("128Mi"), max: false)
        limits.combine(.string("2Gi"), max: false)
        #expect(limits.description == "2176Mi")
        #expect(KubectlQuantity().description == "0")
        #expect(KubectlQuantity.canonical(.string("24683772Ki")) == "24683772Ki")
        #expect(KubectlQuantity.canonical(.string("2")) == "2")
        #expect(KubectlQuantity.canonical(.string("1024Mi")) == "1Gi")
        #expect(KubectlQuantity.canonical(.string("1000k")) == "1M")
    }

    /// describe endpoints on the object kubectl 1.32 described so (its output, verbatim).
    @Test func describeEndpointsLayout() throws {
        let endpoints = try Self.json(#"""
            {"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
             "subsets":[{"notReadyAddresses":[{"ip":"10.249.0.2"},{"ip":"10.249.0.3"}],"ports":[{"name":"80-8080","port":8080,"protocol":"TCP"}]}]}
            """#)
        #expect(KubectlDescribeDeployment.endpoints(endpoints, events: []) == """
            Name:         web
            Namespace:    default
            Labels:       app=web
            Annotations:  <none>
            Subsets:
              Addresses:          <none>
              NotReadyAddresses:  10.249.0.2,10.249.0.3
              Ports:
                Name     Port  Protocol
                ----     ----  --------
                80-8080  8080  TCP

            Events:  <none>

            """)
    }

    @Test func nodeRolesAndReplicaSetLists() {
        #expect(KubectlDescribeNode.roleNames(["node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker", "x": "y"]) == ["control-plane", "worker"])
        #expect(KubectlDescribeDeployment.replicaSetList([]) == "<none>")
        let set = OrderedJSON.object([("metadata", .object([("name", .string("web-1"))])), ("spec", .object([("replicas", .int(2))])),
                                      ("status", .object([("replicas", .int(1))]))])
        #expect(KubectlDescribeDeployment.replicaSetList([set, set]) == "web-1 (1/2 replicas created), web-1 (1/2 replicas created)")
        #expect(KubectlDescribeDeployment.intOrString(.string("25%")) == "25%" && KubectlDescribeDeployment.intOrString(.int(1)) == "1")
    }
}
