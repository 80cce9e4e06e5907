module github.com/queuewatch/queuewatch

go 1.26.8
