// GraphiQL served by the hub itself: every script it needs comes from /static/vendor.
// The token is typed once into the Headers tab ({"Authorization": "Bearer …"}) and kept
// by GraphiQL in this browser; subscriptions go over graphql-transport-ws on the same path.
(function () {
  "use strict";
  var EXAMPLE = [
    "# GraphiQL регионального хаба ресурсов.",
    "# Токен укажите во вкладке Headers:",
    '#   {"Authorization": "Bearer <токен>"}',
    "# Выполнить запрос: Ctrl-Enter.",
    "",
    "query Organizations {",
    "  organizations(first: 5) {",
    "    totalCount",
    "    nodes { uid name kind }",
    "  }",
    "}",
    "",
  ].join("\n");

  var params = new URLSearchParams(window.location.search);
  var url = window.location.href.split("?")[0];
  var ws = new URL(url);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
  ws.hash = "";

  var fetcher = GraphiQL.createFetcher({
    url: url,
    // GraphiQL sends the Headers tab (Authorization) as the connection_init payload
    subscriptionUrl: ws.toString(),
  });

  function App() {
    var _q = React.useState(params.get("q") || EXAMPLE);
    function onEditQuery(q) {
      _q[1](q);
      params.set("q", q);
      history.replaceState(null, "", "?" + params.toString());
    }
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      query: _q[0],
      onEditQuery: onEditQuery,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
