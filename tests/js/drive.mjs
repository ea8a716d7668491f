// Drives `python -m s3batch_mock serve` (or S3BatchServer) with the AWS SDK for
// JavaScript v3 through the eight S3 Batch Operations job calls, and prints one JSON
// object with what the SDK returned. tests/test_js_sdk.py runs this and asserts on it.
//
//   node drive.mjs <recipe> <server URL, http://127.0.0.1:PORT>
//
// Node refuses `http://123456789012.127.0.0.1:PORT` as a URL (WHATWG: a host whose last
// label is a number must be an IPv4 address), and the s3control endpoint rules put the
// account ID in front of the endpoint's host. So every recipe uses
// `http://localhost:PORT` as the endpoint and makes `123456789012.localhost` reach the
// server some other way:
//
//   lookup       an http.Agent whose `lookup` resolves every name to 127.0.0.1
//   endpoint     a custom `endpointProvider` that returns the server's URL as it is
//   http-proxy   http-proxy-agent: the server as an HTTP proxy (absolute-form requests)
//   connect      https-proxy-agent: the server as a proxy that tunnels (`CONNECT`)

import http from "node:http";

import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateJobCommand,
  DeleteJobTaggingCommand,
  DescribeJobCommand,
  GetJobTaggingCommand,
  ListJobsCommand,
  NotFoundException,
  PutJobTaggingCommand,
  S3ControlClient,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
} from "@aws-sdk/client-s3-control";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const [recipe, serverUrl] = process.argv.slice(2);
const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/batch`;
const port = new URL(serverUrl).port;
const endpoint = `http://localhost:${port}`; // not 127.0.0.1: see above

// ---------------------------------------------------------------- the recipes

/** Client settings shared by S3 and S3 Control for one recipe. */
async function settingsFor(recipe) {
  const common = {
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  switch (recipe) {
    case "lookup": {
      // Every name, 123456789012.localhost included, resolves to loopback.
      const httpAgent = new http.Agent({
        keepAlive: true,
        lookup: (hostname, options, callback) =>
          options && options.all
            ? callback(null, [{ address: "127.0.0.1", family: 4 }])
            : callback(null, "127.0.0.1", 4),
      });
      return { ...common, requestHandler: new NodeHttpHandler({ httpAgent }) };
    }
    case "endpoint":
      // S3 Control only: the rule set's account-ID prefix never gets applied.
      return {
        ...common,
        endpointProvider: () => ({ url: new URL(endpoint) }),
      };
    case "http-proxy": {
      const { HttpProxyAgent } = await import("http-proxy-agent");
      const httpAgent = new HttpProxyAgent(serverUrl);
      return { ...common, requestHandler: new NodeHttpHandler({ httpAgent }) };
    }
    case "connect": {
      const { HttpsProxyAgent } = await import("https-proxy-agent");
      const httpAgent = new HttpsProxyAgent(serverUrl);
      return { ...common, requestHandler: new NodeHttpHandler({ httpAgent }) };
    }
    default:
      throw new Error(`unknown recipe ${recipe}`);
  }
}

const settings = await settingsFor(recipe);
// The `endpoint` recipe's provider is for S3 Control; S3 keeps its own rules.
const { endpointProvider, ...s3Settings } = settings;
const s3control = new S3ControlClient(settings);
const s3 = new S3Client({ ...s3Settings, forcePathStyle: true });

// ---------------------------------------------------------------- the calls

const out = { recipe, endpoint };

await s3.send(new CreateBucketCommand({ Bucket: "photos" }));
await s3.send(new CreateBucketCommand({ Bucket: "manifests" }));
for (const key of ["2024/a.jpg", "2024/b.jpg"]) {
  await s3.send(new PutObjectCommand({ Bucket: "photos", Key: key, Body: `bytes of ${key}` }));
}
const put = await s3.send(
  new PutObjectCommand({
    Bucket: "manifests",
    Key: "retag.csv",
    Body: "photos,2024/a.jpg\nphotos,2024/b.jpg\n",
  }),
);
out.manifestETag = put.ETag;

async function createJob(confirmationRequired, description) {
  const created = await s3control.send(
    new CreateJobCommand({
      AccountId: ACCOUNT,
      ConfirmationRequired: confirmationRequired,
      Operation: { S3PutObjectTagging: { TagSet: [{ Key: "reviewed", Value: "yes" }] } },
      Manifest: {
        Spec: { Format: "S3BatchOperations_CSV_20180820", Fields: ["Bucket", "Key"] },
        Location: { ObjectArn: "arn:aws:s3:::manifests/retag.csv", ETag: put.ETag },
      },
      Report: {
        Bucket: "arn:aws:s3:::manifests",
        Prefix: "reports",
        Format: "Report_CSV_20180820",
        Enabled: true,
        ReportScope: "AllTasks",
      },
      Priority: 10,
      RoleArn: ROLE,
      Description: description,
      Tags: [{ Key: "team", Value: "photos" }],
    }),
  );
  return created.JobId;
}

/** DescribeJob until the job's status is one of `wanted` (each poll is one step). */
async function pollUntil(jobId, wanted) {
  const seen = [];
  for (let polls = 0; polls < 60; polls++) {
    const { Job } = await s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: jobId }));
    if (seen.at(-1) !== Job.Status) seen.push(Job.Status);
    if (wanted.includes(Job.Status)) return { job: Job, seen };
  }
  throw new Error(`job ${jobId} never reached ${wanted}: ${seen}`);
}

// CreateJob + DescribeJob polled to Complete.
const runId = await createJob(false, "runs to Complete");
const done = await pollUntil(runId, ["Complete", "Failed"]);
out.run = {
  jobId: runId,
  statuses: done.seen,
  status: done.job.Status,
  priority: done.job.Priority,
  progress: done.job.ProgressSummary,
  description: done.job.Description,
  jobArn: done.job.JobArn,
  creationTimeIsDate: done.job.CreationTime instanceof Date,
};

// A job that waits for confirmation, confirmed with UpdateJobStatus; its priority updated.
const confirmId = await createJob(true, "confirmed");
const suspended = await pollUntil(confirmId, ["Suspended"]);
const priority = await s3control.send(
  new UpdateJobPriorityCommand({ AccountId: ACCOUNT, JobId: confirmId, Priority: 42 }),
);
const confirmed = await s3control.send(
  new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: confirmId, RequestedJobStatus: "Ready" }),
);
const confirmedDone = await pollUntil(confirmId, ["Complete", "Failed"]);
out.confirm = {
  jobId: confirmId,
  suspendedStatuses: suspended.seen,
  suspendedCause: suspended.job.SuspendedCause ?? null,
  updatePriority: { JobId: priority.JobId, Priority: priority.Priority },
  updateStatus: { JobId: confirmed.JobId, Status: confirmed.Status },
  finalStatus: confirmedDone.job.Status,
  finalPriority: confirmedDone.job.Priority,
};

// Another waiting job, cancelled.
const cancelId = await createJob(true, "cancelled");
await pollUntil(cancelId, ["Suspended"]);
const cancelled = await s3control.send(
  new UpdateJobStatusCommand({
    AccountId: ACCOUNT,
    JobId: cancelId,
    RequestedJobStatus: "Cancelled",
    StatusUpdateReason: "not needed",
  }),
);
const cancelledDone = await pollUntil(cancelId, ["Cancelled"]);
out.cancel = {
  jobId: cancelId,
  updateStatus: { JobId: cancelled.JobId, Status: cancelled.Status },
  finalStatus: cancelledDone.job.Status,
  statusUpdateReason: cancelledDone.job.StatusUpdateReason ?? null,
};

// ListJobs: all, then filtered.
const listed = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT }));
const listedComplete = await s3control.send(
  new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ["Complete"] }),
);
out.list = {
  all: listed.Jobs.map((job) => ({ JobId: job.JobId, Status: job.Status, Priority: job.Priority })),
  complete: listedComplete.Jobs.map((job) => job.JobId),
};

// Job tagging: Get, Put, Get, Delete, Get.
const tagsOf = async (jobId) =>
  (await s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }))).Tags;
const tagsAtCreate = await tagsOf(runId);
await s3control.send(
  new PutJobTaggingCommand({
    AccountId: ACCOUNT,
    JobId: runId,
    Tags: [
      { Key: "team", Value: "archive" },
      { Key: "stage", Value: "done" },
    ],
  }),
);
const tagsAfterPut = await tagsOf(runId);
await s3control.send(new DeleteJobTaggingCommand({ AccountId: ACCOUNT, JobId: runId }));
out.tagging = { atCreate: tagsAtCreate, afterPut: tagsAfterPut, afterDelete: await tagsOf(runId) };

// A modeled error.
try {
  await s3control.send(
    new DescribeJobCommand({ AccountId: ACCOUNT, JobId: "00000000-0000-0000-0000-000000000000" }),
  );
  out.notFound = null;
} catch (error) {
  out.notFound = {
    name: error.name,
    isModeledClass: error instanceof NotFoundException,
    fault: error.$fault,
    httpStatusCode: error.$metadata?.httpStatusCode,
    message: error.message,
  };
}

// What the job did, seen through S3.
const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: "photos", Key: "2024/a.jpg" }));
out.objectTags = tagging.TagSet;

s3control.destroy();
s3.destroy();
process.stdout.write(JSON.stringify(out) + "\n");
