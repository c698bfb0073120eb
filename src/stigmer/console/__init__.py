"""The web console: HTTP pages and live streams over the API, as one more client of it.

`stigmer server` runs it beside the API (`--console-port`, 0 turns it off). It reads and
acts only through `stigmer.client.Client`, with the user token, under the API's access
rules: nothing here touches the store or Temporal.
"""
