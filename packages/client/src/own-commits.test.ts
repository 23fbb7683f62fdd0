// Our own commits against a node that lags or withholds them (the node may
// reorder, withhold or show anything late): a commit we published is only
// given up once its epoch is decided, and whichever of ours comes first in
// the node's order is the one we merge, so that we never close an epoch
// with another commit than the other members did.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient } from "./api/api-client.js";
import { Client, Group, GroupMessageKind, isClientError } from "./index.js";

/**
 * A view of the node that hides every group message from the calls it is
 * told to: `hideAfterPublish` hides the first `n` queries that follow each
 * publish, `hideAll` every query while set.
 */
function laggingView() {
  const view = { hideAfterPublish: 0, hideAll: false, pending: 0 };
  const interceptor: Interceptor = (next) => async (request) => {
    const response = await next(request);
    if (request.method.name === "SendGroupMessages") view.pending = view.hideAfterPublish;
    if (!response.stream && request.method.name === "QueryGroupMessages" && (view.hideAll || view.pending > 0)) {
      view.pending = Math.max(0, view.pending - 1);
      (response.message as unknown as { messages: unknown[] }).messages = [];
    }
    return response;
  };
  return { view, interceptor };
}

describe("@parley/client: our own commits, whatever the node shows first", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  before(() => {
    node = createInProcessTestNode();
  });
  after(async () => {
    await node.stop();
  });

  const newClient = (interceptors: Interceptor[] = []) =>
    Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, interceptors });

  async function pair(interceptor: Interceptor) {
    const alice = await newClient([interceptor]);
    const bob = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup instanceof Group);
    return { alice, bob, group, bobsGroup };
  }

  /** How many commits the node holds on the group's topic beyond the first `skip`. */
  async function topicSize(groupId: Uint8Array): Promise<number> {
    const api = createApiClient(node.clientOptions);
    return (await api.mls.queryGroupMessages({ groupId })).messages.length;
  }

  /** Both sides read each other: they hold the same epoch. */
  async function assertInStep(group: Group, bobsGroup: Group, tag: string) {
    await group.send(`from alice ${tag}`);
    await bobsGroup.sync();
    await bobsGroup.send(`from bob ${tag}`);
    await group.sync();
    const texts = async (g: Group) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
    assert.ok((await texts(bobsGroup)).includes(`from alice ${tag}`), "bob reads alice");
    assert.ok((await texts(group)).includes(`from bob ${tag}`), "alice reads bob");
  }

  it("a commit the node shows late is waited for, not rebuilt on the same epoch", async () => {
    const { view, interceptor } = laggingView();
    const { alice, bob, group, bobsGroup } = await pair(interceptor);
    const commitsBefore = await topicSize(group.groupIdBytes);
    view.hideAfterPublish = 1;
    await group.updateName("renamed while the node lags");
    view.hideAfterPublish = 0;
    assert.equal(await topicSize(group.groupIdBytes), commitsBefore + 1, "one commit published, not a second for the same epoch");
    await bobsGroup.sync();
    assert.equal(bobsGroup.name, "renamed while the node lags");
    assert.equal(group.name, "renamed while the node lags");
    await assertInStep(group, bobsGroup, "after the lag");
    alice.close();
    bob.close();
  });

  it("a commit the node withholds stays pending: the call fails, a later sync merges it, nothing forks", async () => {
    const { view, interceptor } = laggingView();
    const { alice, bob, group, bobsGroup } = await pair(interceptor);
    const commitsBefore = await topicSize(group.groupIdBytes);
    view.hideAll = true;
    await assert.rejects(group.updateName("withheld"), (e) => isClientError(e) && e.code === "client.publish_failed");
    assert.equal(await topicSize(group.groupIdBytes), commitsBefore + 1, "no second commit for the same epoch");
    // The others apply it meanwhile; once the node shows it, it is ours that we merge.
    await bobsGroup.sync();
    assert.equal(bobsGroup.name, "withheld");
    view.hideAll = false;
    await group.sync();
    assert.equal(group.name, "withheld");
    await assertInStep(group, bobsGroup, "after the withholding");
    alice.close();
    bob.close();
  });

  it("two commits of ours for one epoch: the one first in the node's order is merged, as the others do", async () => {
    const { view, interceptor } = laggingView();
    const { alice, bob, group, bobsGroup } = await pair(interceptor);
    view.hideAll = true;
    await assert.rejects(group.updateName("first"), (e) => isClientError(e) && e.code === "client.publish_failed");
    // While the first is pending, another change is built on the same epoch.
    await assert.rejects(group.updateDescription("second"), (e) => isClientError(e) && e.code === "client.publish_failed");
    await bobsGroup.sync();
    assert.equal(bobsGroup.name, "first", "the others take the first");
    view.hideAll = false;
    await group.sync();
    assert.equal(group.name, "first");
    // The second lost its epoch and is made again on the next one.
    await bobsGroup.sync();
    assert.equal(group.description, "second");
    assert.equal(bobsGroup.description, "second");
    await assertInStep(group, bobsGroup, "after both");
    alice.close();
    bob.close();
  });
});
