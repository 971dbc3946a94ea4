package asl

import (
	"fmt"
	"strings"
)

// Integration is a Task's resource and parameters for one service
// integration; pass it to TaskBuilder.Resource. The helpers below cover the
// integrations this project uses. A value argument (payload, message, body)
// may be an Expr, which takes it from a path ("Payload.$": "$"), or any value
// ValueOf accepts, usually an Obj.
//
// Reference: https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html
// and .../connect-to-resource.html (request-response, .sync, .waitForTaskToken).
type Integration struct {
	Resource   string
	Parameters *Value
	callback   bool // the service supports .waitForTaskToken
	err        error
}

// Resource ARNs of the integrations this project uses.
const (
	ResLambdaInvoke          = "arn:aws:states:::lambda:invoke"
	ResGlueStartJobRun       = "arn:aws:states:::glue:startJobRun"
	ResGlueStartJobRunSync   = "arn:aws:states:::glue:startJobRun.sync"
	ResStartExecution        = "arn:aws:states:::states:startExecution"
	ResStartExecutionSync2   = "arn:aws:states:::states:startExecution.sync:2"
	ResSNSPublish            = "arn:aws:states:::sns:publish"
	ResS3PutObject           = "arn:aws:states:::aws-sdk:s3:putObject"
	ResS3GetObject           = "arn:aws:states:::aws-sdk:s3:getObject"
	ResS3ListObjectsV2       = "arn:aws:states:::aws-sdk:s3:listObjectsV2"
	ResEventsPutEvents       = "arn:aws:states:::events:putEvents"
	ResSQSSendMessage        = "arn:aws:states:::sqs:sendMessage"
	SuffixWaitForTaskToken   = ".waitForTaskToken"
	TaskTokenContextPath     = "$$.Task.Token"
	ExecutionIDContextPath   = "$$.Execution.Id"
	ExecutionNameContextPath = "$$.Execution.Name"
)

// WaitForTaskToken switches to the callback pattern: the task waits until
// SendTaskSuccess/SendTaskFailure with the token (pass Ref(TaskTokenContextPath)
// in the payload). Integrations without callback support record an error
// that Build reports.
func (i Integration) WaitForTaskToken() Integration {
	if !i.callback {
		i.err = fmt.Errorf("resource %s does not support %s", i.Resource, SuffixWaitForTaskToken)
		return i
	}
	i.Resource += SuffixWaitForTaskToken
	i.callback = false
	return i
}

// params builds the Parameters object, recording conversion errors.
func params(resource string, callback bool, pairs ...any) Integration {
	i := Integration{Resource: resource, callback: callback}
	obj := Value{Kind: KindObject}
	for k := 0; k < len(pairs); k += 2 {
		key, val := pairs[k].(string), pairs[k+1]
		if e, ok := val.(Expr); ok {
			obj.Fields = append(obj.Fields, Member{Key: key + ".$", Value: Value{Kind: KindString, Str: string(e)}})
			continue
		}
		v, err := ValueOf(val)
		if err != nil {
			i.err = fmt.Errorf("%s parameter %s: %w", resource, key, err)
			continue
		}
		obj.Fields = append(obj.Fields, Member{Key: key, Value: v})
	}
	i.Parameters = &obj
	return i
}

// LambdaInvoke calls a Lambda function (optimized integration; the result
// is {"Payload": ..., "StatusCode": ..., ...}, so select $.Payload).
func LambdaInvoke(functionName string, payload any) Integration {
	return params(ResLambdaInvoke, true, "FunctionName", functionName, "Payload", payload)
}

// GlueStartJobRun starts a Glue job and returns at once. arguments may be nil.
func GlueStartJobRun(jobName string, arguments any) Integration {
	return glue(ResGlueStartJobRun, jobName, arguments)
}

// GlueStartJobRunSync starts a Glue job and waits for it to finish.
func GlueStartJobRunSync(jobName string, arguments any) Integration {
	return glue(ResGlueStartJobRunSync, jobName, arguments)
}

func glue(res, jobName string, arguments any) Integration {
	if arguments == nil {
		return params(res, false, "JobName", jobName)
	}
	return params(res, false, "JobName", jobName, "Arguments", arguments)
}

// StartExecution starts another state machine and returns at once.
func StartExecution(stateMachineArn string, input any) Integration {
	return params(ResStartExecution, true, "StateMachineArn", stateMachineArn, "Input", input)
}

// StartExecutionSync2 starts another state machine, waits for it, and
// returns its output parsed as JSON (.sync:2).
func StartExecutionSync2(stateMachineArn string, input any) Integration {
	return params(ResStartExecutionSync2, false, "StateMachineArn", stateMachineArn, "Input", input)
}

// SNSPublish publishes a message to a topic.
func SNSPublish(topicArn string, message any) Integration {
	return params(ResSNSPublish, true, "TopicArn", topicArn, "Message", message)
}

// SNSPublishWithSubject publishes a message with a subject.
func SNSPublishWithSubject(topicArn string, subject, message any) Integration {
	return params(ResSNSPublish, true, "TopicArn", topicArn, "Subject", subject, "Message", message)
}

// S3PutObject writes an object (AWS SDK integration).
func S3PutObject(bucket, key, body any) Integration {
	return params(ResS3PutObject, false, "Bucket", bucket, "Key", key, "Body", body)
}

// S3GetObject reads an object (AWS SDK integration).
func S3GetObject(bucket, key any) Integration {
	return params(ResS3GetObject, false, "Bucket", bucket, "Key", key)
}

// S3ListObjectsV2 lists keys under a prefix (AWS SDK integration).
func S3ListObjectsV2(bucket, prefix any) Integration {
	return params(ResS3ListObjectsV2, false, "Bucket", bucket, "Prefix", prefix)
}

// EventsPutEvents sends events to EventBridge; entries is the Entries array.
func EventsPutEvents(entries any) Integration {
	return params(ResEventsPutEvents, true, "Entries", entries)
}

// SQSSendMessage sends a message to a queue.
func SQSSendMessage(queueURL, body any) Integration {
	return params(ResSQSSendMessage, true, "QueueUrl", queueURL, "MessageBody", body)
}

// IsCallbackResource reports whether a resource uses the task token pattern.
func IsCallbackResource(resource string) bool {
	return strings.HasSuffix(resource, SuffixWaitForTaskToken)
}
