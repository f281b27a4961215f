"""Upstream ironic-python-agent's own Ironic client (ironic_python_agent.ironic_api_client)
against an Ironic API: look the node up by MAC, then heartbeat with the token lookup handed out.
Prints one JSON line with what Ironic answered. Usage: ipa_client.py API_URL MAC CALLBACK_PORT"""
import json
import sys

from ironic_python_agent import config  # registers IPA's options (http_request_timeout, …)
from ironic_python_agent import hardware
from ironic_python_agent import ironic_api_client

config.CONF([], project='ironic-python-agent')
api_url, mac, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = ironic_api_client.APIClient(api_url)
hw = {'interfaces': [hardware.NetworkInterface('eth0', mac)]}
content = client.lookup_node(hw, timeout=30, starting_interval=1)
token = content['config'].get('agent_token')
client.agent_token = token
client.heartbeat(content['node']['uuid'], ('127.0.0.1', port))
print(json.dumps({
    'uuid': content['node']['uuid'],
    'token': bool(token),
    'heartbeat_timeout': content['config'].get('heartbeat_timeout'),
    'api_version': '%d.%d' % client._get_ironic_api_version(),
}))
